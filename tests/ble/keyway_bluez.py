'''python-dbusmock template add-on: Keyway locks as BLE GATT peripherals of a mocked BlueZ.

Load it on top of the stock ``bluez5`` template with
``org.freedesktop.DBus.Mock.AddTemplate('/path/to/keyway_bluez.py', {...})`` on ``/``.
Parameters (all optional): ``trace`` (a file receiving one line per link event),
``log_dir`` (where each lock process writes its stderr), ``advert_delay_ms`` (time from
``StartDiscovery`` to the first advertisement of a lock, default 100).

What it adds to the stock template, which has adapters, discovery and advertisement
properties but no GATT and a ``Device1.Connect`` that never resolves services:

* ``org.keyway.Mock.AddLock(adapter, address, lock_id, argv, mtu)``: a lock process
  (``keyway sim lock --stdio ...``, given as ``argv``) behind a BLE device that advertises the
  Keyway service UUID with the lock id as service data once the adapter discovers; the link's
  ATT MTU is ``mtu``, published as the characteristics' ``MTU`` property (BlueZ >= 5.62), or,
  with ``mtu = 0``, a link at the BLE minimum of 23 whose MTU BlueZ does not publish (older
  BlueZ);
* ``org.keyway.Mock.AddDecoy(adapter, address, name, service_data)``: a device advertising the
  Keyway service with whatever service data (a malformed one, say), and no GATT;
* ``org.keyway.Mock.DropLinkAfterWrites(lock_id, writes)``: the next connection to that lock
  drops (as a supervision timeout would) right after the lock received ``writes`` fragments;
* ``Device1.Connect`` / ``Disconnect`` that set ``Connected`` and ``ServicesResolved``, and
  create / remove the GATT objects (``GattService1``, ``GattCharacteristic1`` write and notify,
  the notify characteristic's CCCD ``GattDescriptor1``) like BlueZ does for an unbonded LE device;
* ``StartNotify`` on the notify characteristic sends ``C <mtu>`` to the lock (connected and
  subscribed) and ``WriteValue`` on the write characteristic sends ``W <hex>``; what the lock
  answers (``N <hex>`` lines) goes out as ``PropertiesChanged`` on the notify characteristic's
  ``Value``, after the method reply, as BlueZ does, and then ``A`` confirms them to the lock
  (what the phone's stack does for an indication; a dropped link never confirms);
* ``Introspect`` with child nodes last: dbusmock appends method-less interfaces (such as
  ``GattService1``) after the ``<node>`` children, and the introspection parser of
  bluez-async (btleplug's BlueZ backend) refuses interleaved elements
  ("duplicate field `interface`").
'''

import binascii
import os
import queue
import subprocess
import threading
import time
import xml.etree.ElementTree as ElementTree

import dbus
import dbus.service

from dbusmock import OBJECT_MANAGER_IFACE, mockobject

try:
    from gi.repository import GLib
except ImportError:  # without PyGObject, deferred work runs at once
    GLib = None

KEYWAY_MOCK_IFACE = 'org.keyway.Mock'
ADAPTER_IFACE = 'org.bluez.Adapter1'
DEVICE_IFACE = 'org.bluez.Device1'
SERVICE_IFACE = 'org.bluez.GattService1'
CHARACTERISTIC_IFACE = 'org.bluez.GattCharacteristic1'
DESCRIPTOR_IFACE = 'org.bluez.GattDescriptor1'

# protocol/src/ble.rs
SERVICE_UUID = '6b657977-6179-4c6b-8000-000000000001'
WRITE_UUID = '6b657977-6179-4c6b-8000-000000000002'
NOTIFY_UUID = '6b657977-6179-4c6b-8000-000000000003'
CCCD_UUID = '00002902-0000-1000-8000-00805f9b34fb'
ATT_HEADER_LEN = 3
LOCK_ANSWER_TIMEOUT_S = 10.0

# lock id -> Lock; address -> (adapter name, advertisement) for devices not yet discovered
LOCKS = {}
PENDING = {}
SETTINGS = {'trace': None, 'log_dir': None, 'advert_delay_ms': 100}


def load(mock, parameters):
    '''Called by AddTemplate on the root object.'''
    SETTINGS['trace'] = str(parameters.get('trace', '')) or None
    SETTINGS['log_dir'] = str(parameters.get('log_dir', '')) or None
    SETTINGS['advert_delay_ms'] = int(parameters.get('advert_delay_ms', 100))
    _children_last_in_introspection()
    mock.keyway_adapters_patched = set()


def _children_last_in_introspection():
    '''Re-orders dbusmock's Introspect XML so that child <node>s come after all interfaces.'''
    cls = mockobject.DBusMockObject
    if getattr(cls, '_keyway_introspect_fixed', False):
        return
    original = cls.Introspect

    @dbus.service.method(dbus.INTROSPECTABLE_IFACE, in_signature='', out_signature='s',
                         path_keyword='object_path', connection_keyword='connection')
    def Introspect(self, object_path, connection):  # pylint: disable=invalid-name
        xml = original(self, object_path, connection)
        tree = ElementTree.fromstring(xml)
        children = [element for element in tree if element.tag == 'node']
        for child in children:
            tree.remove(child)
            tree.append(child)
        return ElementTree.tostring(tree, encoding='utf8', method='xml').decode('utf8')

    cls.Introspect = Introspect
    cls._keyway_introspect_fixed = True


def _trace(lock_id, event, detail=''):
    path = SETTINGS['trace']
    if not path:
        return
    with open(path, 'a', encoding='utf-8') as trace:
        trace.write(f'{time.monotonic():.6f} {lock_id} {event} {detail}'.rstrip() + '\n')


def _later(callback, delay_ms=0):
    '''Runs callback from the main loop (after the current method reply), or now.'''
    def once():
        callback()
        return False
    if GLib is None:
        callback()
    elif delay_ms:
        GLib.timeout_add(delay_ms, once)
    else:
        GLib.idle_add(once)


def _device_path(adapter_name, address):
    return f'/org/bluez/{adapter_name}/dev_' + address.replace(':', '_').upper()


def _props_changed(obj, interface, changes):
    obj.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [
        interface, changes, dbus.Array([], signature='s')])


def _set(obj, interface, name, value):
    obj.props[interface][name] = value
    _props_changed(obj, interface, {name: value})


def _bytes(data):
    return dbus.Array([dbus.Byte(b) for b in data], signature='y', variant_level=1)


def _advertisement(service_data):
    return {
        'UUIDs': dbus.Array([SERVICE_UUID], signature='s', variant_level=1),
        'ServiceData': dbus.Dictionary({SERVICE_UUID: _bytes(service_data)}, signature='sv',
                                       variant_level=1),
        'RSSI': dbus.Int16(-58, variant_level=1),
    }


class LockProcess:
    '''A `keyway sim lock --stdio` child: one request line in, its answer lines out.'''

    def __init__(self, lock_id, argv):
        self.lock_id = lock_id
        log = subprocess.DEVNULL
        if SETTINGS['log_dir']:
            # pylint: disable=consider-using-with
            log = open(os.path.join(SETTINGS['log_dir'], f'lock-{lock_id}.log'), 'ab')
        # pylint: disable=consider-using-with
        self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._line()
        if not ready.startswith('R '):
            raise dbus.exceptions.DBusException(
                f'lock {lock_id} did not start: {ready!r}', name=KEYWAY_MOCK_IFACE + '.LockFailed')
        self.public_key = ready.split()[2]

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip('\n'))
        self.lines.put(None)

    def _line(self):
        try:
            line = self.lines.get(timeout=LOCK_ANSWER_TIMEOUT_S)
        except queue.Empty:
            line = None
        if line is None:
            raise dbus.exceptions.DBusException(
                f'lock {self.lock_id} process is gone or silent',
                name='org.bluez.Error.Failed')
        return line

    def ask(self, line):
        '''Sends one line; returns the notification fragments the lock answers.'''
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        fragments = []
        while True:
            answer = self._line()
            if answer.startswith('N '):
                fragments.append(binascii.unhexlify(answer[2:]))
            elif answer == 'OK':
                return fragments
            elif answer.startswith('E '):
                raise dbus.exceptions.DBusException(answer[2:], name='org.bluez.Error.Failed')
            else:
                raise dbus.exceptions.DBusException(
                    f'lock {self.lock_id} answered {answer!r}', name='org.bluez.Error.Failed')


class Lock:
    '''A lock's BLE side: its device, GATT objects while connected, and its process.'''

    def __init__(self, adapter_name, address, lock_id, argv, mtu):
        self.lock_id = lock_id
        self.adapter_name = adapter_name
        self.address = address
        # 0: an older BlueZ that does not publish the MTU, on a link at the minimum of 23.
        self.published_mtu = mtu or None
        self.mtu = mtu or 23
        self.device_path = _device_path(adapter_name, address)
        self.service_path = self.device_path + '/service0010'
        self.write_path = self.service_path + '/char0011'
        self.notify_path = self.service_path + '/char0013'
        self.cccd_path = self.notify_path + '/desc0015'
        self.process = LockProcess(lock_id, argv)
        self.connected = False
        self.radio_lost = False
        self.notifying = False
        self.writes = 0
        self.drop_after = None

    # --- GATT objects, present while connected -------------------------------------------

    def add_gatt(self):
        root = mockobject.objects['/']
        lock = self

        def read_value(char, _options):
            return char.props[CHARACTERISTIC_IFACE]['Value']

        def write_value(_char, value, options):
            lock.on_write(bytes(value), options)

        def refuse_write(_char, _value, _options):
            raise dbus.exceptions.DBusException('Write not permitted',
                                                name='org.bluez.Error.NotPermitted')

        def start_notify(_char):
            lock.on_subscribe()

        def stop_notify(_char):
            lock.on_unsubscribe()

        def no_notify(_char):
            raise dbus.exceptions.DBusException('Notify not supported',
                                                name='org.bluez.Error.NotSupported')

        def read_descriptor(desc, _options):
            return desc.props[DESCRIPTOR_IFACE]['Value']

        def write_descriptor(_desc, _value, _options):
            raise dbus.exceptions.DBusException('Use StartNotify',
                                                name='org.bluez.Error.NotPermitted')

        objects = [
            (self.service_path, SERVICE_IFACE, {
                'UUID': dbus.String(SERVICE_UUID, variant_level=1),
                'Primary': dbus.Boolean(True, variant_level=1),
                'Device': dbus.ObjectPath(self.device_path, variant_level=1),
                'Includes': dbus.Array([], signature='o', variant_level=1),
                'Handle': dbus.UInt16(0x10, variant_level=1),
            }, []),
            (self.write_path, CHARACTERISTIC_IFACE, self._characteristic_props(
                WRITE_UUID, ['write-without-response'], 0x11), [
                ('ReadValue', 'a{sv}', 'ay', read_value),
                ('WriteValue', 'aya{sv}', '', write_value),
                ('StartNotify', '', '', no_notify),
                ('StopNotify', '', '', no_notify),
            ]),
            (self.notify_path, CHARACTERISTIC_IFACE, self._characteristic_props(
                NOTIFY_UUID, ['notify'], 0x13), [
                ('ReadValue', 'a{sv}', 'ay', read_value),
                ('WriteValue', 'aya{sv}', '', refuse_write),
                ('StartNotify', '', '', start_notify),
                ('StopNotify', '', '', stop_notify),
            ]),
            (self.cccd_path, DESCRIPTOR_IFACE, {
                'UUID': dbus.String(CCCD_UUID, variant_level=1),
                'Characteristic': dbus.ObjectPath(self.notify_path, variant_level=1),
                'Value': dbus.Array([], signature='y', variant_level=1),
                'Flags': dbus.Array(['read', 'write'], signature='s', variant_level=1),
                'Handle': dbus.UInt16(0x15, variant_level=1),
            }, [
                ('ReadValue', 'a{sv}', 'ay', read_descriptor),
                ('WriteValue', 'aya{sv}', '', write_descriptor),
            ]),
        ]
        for path, interface, props, methods in objects:
            root.AddObject(path, interface, props, methods)
            root.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}', [
                dbus.ObjectPath(path), {interface: props}])

    def _characteristic_props(self, uuid, flags, handle):
        props = {
            'UUID': dbus.String(uuid, variant_level=1),
            'Service': dbus.ObjectPath(self.service_path, variant_level=1),
            'Value': dbus.Array([], signature='y', variant_level=1),
            'Flags': dbus.Array(flags, signature='s', variant_level=1),
            'Handle': dbus.UInt16(handle, variant_level=1),
        }
        if self.published_mtu is not None:
            props['MTU'] = dbus.UInt16(self.published_mtu, variant_level=1)
        if 'notify' in flags:
            props['Notifying'] = dbus.Boolean(False, variant_level=1)
        return props

    def remove_gatt(self):
        root = mockobject.objects['/']
        for path, interface in [(self.cccd_path, DESCRIPTOR_IFACE),
                                (self.notify_path, CHARACTERISTIC_IFACE),
                                (self.write_path, CHARACTERISTIC_IFACE),
                                (self.service_path, SERVICE_IFACE)]:
            if path in mockobject.objects:
                root.RemoveObject(path)
                root.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesRemoved', 'oas', [
                    dbus.ObjectPath(path), dbus.Array([interface], signature='s')])

    # --- link events ---------------------------------------------------------------------

    def on_connect(self, device):
        if self.connected:
            raise dbus.exceptions.DBusException('Already Connected',
                                                name='org.bluez.Error.AlreadyConnected')
        if self.process.proc.poll() is not None:
            raise dbus.exceptions.DBusException('le-connection-abort-by-local',
                                                name='org.bluez.Error.Failed')
        self.connected = True
        self.radio_lost = False
        self.writes = 0
        _trace(self.lock_id, 'connect',
               f'mtu={self.mtu}' + ('' if self.published_mtu else ' unpublished'))
        device.connected = True
        _set(device, DEVICE_IFACE, 'Connected', dbus.Boolean(True, variant_level=1))
        self.add_gatt()
        _set(device, DEVICE_IFACE, 'ServicesResolved', dbus.Boolean(True, variant_level=1))

    def on_disconnect(self, device, reason):
        if not self.connected:
            raise dbus.exceptions.DBusException('Not Connected',
                                                name='org.bluez.Error.NotConnected')
        self.connected = False
        self.radio_lost = False
        self.notifying = False
        _trace(self.lock_id, reason)
        try:
            self.process.ask('D')
        finally:
            device.connected = False
            self.remove_gatt()
            _set(device, DEVICE_IFACE, 'ServicesResolved', dbus.Boolean(False, variant_level=1))
            _set(device, DEVICE_IFACE, 'Connected', dbus.Boolean(False, variant_level=1))

    def on_subscribe(self):
        if not self.connected or self.radio_lost:
            raise dbus.exceptions.DBusException('Not connected', name='org.bluez.Error.NotConnected')
        if self.notifying:
            return
        self.notifying = True
        _trace(self.lock_id, 'subscribe')
        notify = mockobject.objects[self.notify_path]
        _set(notify, CHARACTERISTIC_IFACE, 'Notifying', dbus.Boolean(True, variant_level=1))
        self.notify(self.process.ask(f'C {self.mtu}'))

    def on_unsubscribe(self):
        if self.notifying and self.notify_path in mockobject.objects:
            self.notifying = False
            notify = mockobject.objects[self.notify_path]
            _set(notify, CHARACTERISTIC_IFACE, 'Notifying', dbus.Boolean(False, variant_level=1))

    def on_write(self, value, options):
        if not self.connected or self.radio_lost:
            raise dbus.exceptions.DBusException('Not connected', name='org.bluez.Error.NotConnected')
        write_type = str(options.get('type', 'request'))
        if len(value) > self.mtu - ATT_HEADER_LEN:
            raise dbus.exceptions.DBusException(
                f'{len(value)} bytes do not fit one ATT write at MTU {self.mtu}',
                name='org.bluez.Error.InvalidValueLength')
        self.writes += 1
        _trace(self.lock_id, 'write', f'{write_type} {value.hex()}')
        fragments = self.process.ask('W ' + value.hex())
        if self.drop_after is not None and self.writes >= self.drop_after:
            self.drop_after = None
            # The radio goes quiet after this write: later writes fail, the answer is lost,
            # and BlueZ reports the disconnection (after this method's reply).
            self.radio_lost = True
            device = mockobject.objects[self.device_path]

            def drop():
                if self.connected:  # unless the phone disconnected first
                    self.on_disconnect(device, 'drop')
            _later(drop)
            return
        self.notify(fragments)

    def notify(self, fragments):
        '''Sends the lock's fragments as notifications, in order, after the method reply.'''
        def send():
            if not self.notifying or self.notify_path not in mockobject.objects:
                return
            notify = mockobject.objects[self.notify_path]
            for fragment in fragments:
                _trace(self.lock_id, 'notify', fragment.hex())
                _set(notify, CHARACTERISTIC_IFACE, 'Value', _bytes(fragment))
            # Sent while the phone is connected and subscribed: its stack confirms them (an
            # indication's confirmation). Fragments lost with a dropped link never get here.
            self.process.ask('A')
        if fragments:
            _later(send)


def _connect(device):
    LOCKS_BY_PATH[device.path].on_connect(device)


def _disconnect(device):
    LOCKS_BY_PATH[device.path].on_disconnect(device, 'disconnect')


LOCKS_BY_PATH = {}


def _heard(adapter_name, address, advertisement, on_device=None):
    '''An advertisement reaches the adapter: BlueZ creates the device or updates it.'''
    root = mockobject.objects['/']
    path = _device_path(adapter_name, address)
    name = str(advertisement.pop('Name', 'Keyway lock'))
    if path not in mockobject.objects:
        root.AddDevice(adapter_name, address, name)
        if on_device is not None:
            on_device(mockobject.objects[path])
    device = mockobject.objects[path]
    # Not Mock.UpdateProperties: it cannot wrap a dbus.Dictionary (ServiceData) in a variant.
    device.props[DEVICE_IFACE].update(advertisement)
    _props_changed(device, DEVICE_IFACE, advertisement)


def _patch_discovery(adapter_name):
    '''Locks advertise: each StartDiscovery hears every registered device after a delay.'''
    root = mockobject.objects['/']
    if adapter_name in root.keyway_adapters_patched:
        return
    adapter_path = '/org/bluez/' + adapter_name
    if adapter_path not in mockobject.objects:
        raise dbus.exceptions.DBusException(f'Adapter {adapter_name} does not exist.',
                                            name='org.bluez.Mock.NoSuchAdapter')
    adapter = mockobject.objects[adapter_path]
    original_start = adapter.methods[ADAPTER_IFACE]['StartDiscovery'][2]
    original_stop = adapter.methods[ADAPTER_IFACE]['StopDiscovery'][2]

    def discovering(adapter_obj, original, on):
        # The stock methods fail when SetDiscoveryFilter was never called.
        if 'DiscoveryFilter' in adapter_obj.props[ADAPTER_IFACE]:
            original(adapter_obj)
        else:
            _set(adapter_obj, ADAPTER_IFACE, 'Discovering', dbus.Boolean(on, variant_level=1))

    def stop_discovery(adapter_obj):
        discovering(adapter_obj, original_stop, False)

    def start_discovery(adapter_obj):
        discovering(adapter_obj, original_start, True)

        def advertise():
            if not adapter_obj.props[ADAPTER_IFACE]['Discovering']:
                return
            for address, (name, advertisement, on_device) in list(PENDING.items()):
                if name == adapter_name:
                    _heard(name, address, dict(advertisement), on_device)
        _later(advertise, SETTINGS['advert_delay_ms'])

    adapter.AddMethod(ADAPTER_IFACE, 'StartDiscovery', '', '', start_discovery)
    adapter.AddMethod(ADAPTER_IFACE, 'StopDiscovery', '', '', stop_discovery)
    root.keyway_adapters_patched.add(adapter_name)


@dbus.service.method(KEYWAY_MOCK_IFACE, in_signature='ssuasq', out_signature='s')
def AddLock(self, adapter_name, address, lock_id, argv, mtu):
    '''Starts a lock process (argv) and registers its BLE device, heard when discovering.

    Returns the lock's public key (hex), as the lock printed it.'''
    lock_id = int(lock_id)
    if lock_id in LOCKS:
        raise dbus.exceptions.DBusException(f'lock {lock_id} exists',
                                            name=KEYWAY_MOCK_IFACE + '.Exists')
    _patch_discovery(adapter_name)
    lock = Lock(str(adapter_name), str(address), lock_id, list(argv), int(mtu))
    LOCKS[lock_id] = lock
    LOCKS_BY_PATH[lock.device_path] = lock

    def on_device(device):
        device.AddMethods(DEVICE_IFACE, [
            ('Connect', '', '', _connect),
            ('Disconnect', '', '', _disconnect),
        ])
    advertisement = _advertisement(lock_id.to_bytes(4, 'big'))
    advertisement['Name'] = f'Keyway {lock_id}'
    PENDING[str(address)] = (str(adapter_name), advertisement, on_device)
    return lock.process.public_key


@dbus.service.method(KEYWAY_MOCK_IFACE, in_signature='sssay', out_signature='')
def AddDecoy(self, adapter_name, address, name, service_data):
    '''A device advertising the Keyway service with this service data, without GATT.'''
    _patch_discovery(adapter_name)
    advertisement = _advertisement(bytes(service_data))
    advertisement['Name'] = str(name)
    PENDING[str(address)] = (str(adapter_name), advertisement, None)


@dbus.service.method(KEYWAY_MOCK_IFACE, in_signature='uu', out_signature='')
def DropLinkAfterWrites(self, lock_id, writes):
    '''The next connection to the lock drops right after it received `writes` fragments.'''
    lock = LOCKS.get(int(lock_id))
    if lock is None:
        raise dbus.exceptions.DBusException(f'no lock {lock_id}',
                                            name=KEYWAY_MOCK_IFACE + '.NoSuchLock')
    lock.drop_after = int(writes)


@dbus.service.method(KEYWAY_MOCK_IFACE, in_signature='', out_signature='')
def StopLocks(self):
    '''Ends every lock process (their stdin closes; each prints its summary and exits).'''
    for lock in LOCKS.values():
        try:
            lock.process.proc.stdin.close()
            lock.process.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            lock.process.proc.kill()
