#!/usr/bin/env python3
'''A mocked BlueZ whose GATT peripherals are Keyway lock simulators, on a private D-Bus.

Starts, in a fresh run directory:

1. a private ``dbus-daemon`` (permissive policy, socket in the run directory);
2. ``python3 -m dbusmock --system --template bluez5`` on it, plus the ``keyway_bluez.py``
   add-on (GATT, connect, notifications, Introspect fix);
3. an adapter ``hci0``, and one BLE device per ``--lock`` backed by its own
   ``keyway sim lock --stdio`` process (the devices advertise once a central discovers);
   ``--legacy-lock`` adds one on a link at MTU 23 that BlueZ does not publish (BlueZ < 5.62);
   with ``--decoy``, also a device advertising the Keyway service with malformed service data.

Then prints, on stdout::

    LOCK <lock id> <BLE address> <lock public key, hex>     (one per lock)
    READY <bus address> <run directory>

and serves commands on stdin, one a line, each answered by ``OK`` or ``E <text>``:

    drop <lock id> <writes>    the next connection drops after the lock got <writes> fragments
    quit                       tear everything down and exit

End of stdin (the test process exiting, whatever way) also tears everything down, and so does
``--max-seconds``. Children get SIGTERM if this script dies. The run directory (bus socket,
dbusmock log, lock logs, ``trace.log``) is removed at the end unless ``KEYWAY_BLE_KEEP=1``;
on a failure the logs are printed to stderr.

The interpreter must import ``dbus`` and ``dbusmock`` (Debian: python3-dbus, python3-dbusmock).
'''

import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import dbus

HERE = os.path.dirname(os.path.abspath(__file__))
ADDON = os.path.join(HERE, 'keyway_bluez.py')
MOCK_IFACE = 'org.freedesktop.DBus.Mock'
BLUEZ_MOCK_IFACE = 'org.bluez.Mock'
KEYWAY_MOCK_IFACE = 'org.keyway.Mock'
BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>keyway-ble-test</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
  <limit name="reply_timeout">30000</limit>
</busconfig>
'''
PR_SET_PDEATHSIG = 1


def log(message):
    sys.stderr.write(f'ble-harness: {message}\n')
    sys.stderr.flush()


def die_with_parent():
    '''preexec_fn: the child gets SIGTERM when this script ends, however it ends.'''
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    os.setpgrp()


class Harness:
    def __init__(self, args):
        self.args = args
        self.run_dir = tempfile.mkdtemp(prefix='keyway-ble-')
        self.daemon = None
        self.mock = None
        self.bus = None
        self.failed = False

    def path(self, name):
        return os.path.join(self.run_dir, name)

    def start(self):
        socket = self.path('bus')
        with open(self.path('bus.conf'), 'w', encoding='utf-8') as config:
            config.write(BUS_CONFIG.format(socket=socket))
        # pylint: disable=consider-using-with
        self.daemon = subprocess.Popen(
            ['dbus-daemon', '--nofork', '--nopidfile', '--print-address=1',
             '--config-file=' + self.path('bus.conf')],
            stdout=subprocess.PIPE, stderr=open(self.path('dbus-daemon.log'), 'wb'),
            preexec_fn=die_with_parent, text=True)
        address = self.daemon.stdout.readline().strip()
        if not address:
            raise RuntimeError('dbus-daemon printed no address (see dbus-daemon.log)')
        self.address = address
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
        env.pop('DBUS_SESSION_BUS_ADDRESS', None)
        self.mock = subprocess.Popen(
            [sys.executable, '-m', 'dbusmock', '--system', '--template', 'bluez5',
             '--logfile', self.path('dbusmock.log')],
            stdout=subprocess.DEVNULL, stderr=open(self.path('dbusmock.err'), 'wb'),
            env=env, preexec_fn=die_with_parent)
        self.bus = dbus.bus.BusConnection(address)
        deadline = time.monotonic() + 15
        while not self.bus.name_has_owner('org.bluez'):
            if self.mock.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('dbusmock did not take org.bluez (see dbusmock.err)')
            time.sleep(0.02)
        root = self.bus.get_object('org.bluez', '/')
        root.AddTemplate(ADDON, {
            'trace': self.path('trace.log'),
            'log_dir': self.run_dir,
            'advert_delay_ms': dbus.UInt32(self.args.advert_delay_ms),
        }, dbus_interface=MOCK_IFACE)
        root.AddAdapter('hci0', 'keyway-ci', dbus_interface=BLUEZ_MOCK_IFACE)
        locks = [(lock_id, self.args.mtu) for lock_id in self.args.lock]
        locks += [(lock_id, 0) for lock_id in self.args.legacy_lock]
        for index, (lock_id, mtu) in enumerate(locks):
            address = f'C0:FF:EE:00:{index // 256:02X}:{index % 256:02X}'
            argv = [self.args.keyway, 'sim', 'lock', '--stdio',
                    '--lock-id', str(lock_id),
                    '--site-id', str(self.args.site_id),
                    '--authority-key', self.args.authority_key,
                    '--event-log', self.path(f'events-{lock_id}.hex')]
            public_key = root.AddLock('hci0', address, dbus.UInt32(lock_id), argv,
                                      dbus.UInt16(mtu),
                                      dbus_interface=KEYWAY_MOCK_IFACE)
            print(f'LOCK {lock_id} {address} {public_key}')
        if self.args.decoy:
            root.AddDecoy('hci0', 'DE:C0:00:00:00:01', 'Not a lock',
                          dbus.ByteArray(b'\x00\x01\x02'), dbus_interface=KEYWAY_MOCK_IFACE)
        print(f'READY {self.address} {self.run_dir}', flush=True)

    def serve(self):
        root = self.bus.get_object('org.bluez', '/')
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            try:
                if words[0] == 'quit':
                    print('OK', flush=True)
                    return
                if words[0] == 'drop' and len(words) == 3:
                    root.DropLinkAfterWrites(dbus.UInt32(int(words[1])),
                                             dbus.UInt32(int(words[2])),
                                             dbus_interface=KEYWAY_MOCK_IFACE)
                    print('OK', flush=True)
                else:
                    print(f'E unknown command {line.strip()!r}', flush=True)
            except (dbus.exceptions.DBusException, ValueError) as error:
                print(f'E {error}', flush=True)

    def stop(self):
        if self.bus is not None:
            try:
                self.bus.get_object('org.bluez', '/').StopLocks(
                    dbus_interface=KEYWAY_MOCK_IFACE, timeout=10)
            except dbus.exceptions.DBusException as error:
                log(f'stopping the locks: {error}')
            self.bus.close()
        for name, proc in (('dbusmock', self.mock), ('dbus-daemon', self.daemon)):
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f'{name} ignored SIGTERM: killing it')
                proc.kill()
                proc.wait(timeout=5)
        if self.failed:
            self.dump_logs()
        if os.environ.get('KEYWAY_BLE_KEEP') == '1':
            log(f'kept {self.run_dir}')
        else:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def dump_logs(self):
        for name in sorted(os.listdir(self.run_dir)):
            if name.endswith(('.log', '.err')):
                with open(self.path(name), encoding='utf-8', errors='replace') as file:
                    lines = file.readlines()[-60:]
                log(f'--- {name} (last {len(lines)} lines) ---')
                sys.stderr.writelines(lines)
        sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--keyway', required=True, help='the keyway binary')
    parser.add_argument('--authority-key', required=True, help='site authority public key, base64')
    parser.add_argument('--site-id', type=int, default=1)
    parser.add_argument('--lock', type=int, action='append', default=[], help='a lock id')
    parser.add_argument('--legacy-lock', type=int, action='append', default=[],
                        help='a lock id on a link whose MTU (23) BlueZ does not publish')
    parser.add_argument('--mtu', type=int, default=185, help='the ATT MTU the link negotiates')
    parser.add_argument('--advert-delay-ms', type=int, default=100,
                        help='time from StartDiscovery to the first advertisement')
    parser.add_argument('--decoy', action='store_true',
                        help='add a device with malformed Keyway service data')
    parser.add_argument('--max-seconds', type=int, default=900,
                        help='tear down after this long whatever happens')
    args = parser.parse_args()

    harness = Harness(args)

    def on_signal(signum, _frame):
        raise SystemExit(f'signal {signum}')
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(args.max_seconds)
    try:
        harness.start()
        harness.serve()
    except BaseException as error:  # pylint: disable=broad-except
        harness.failed = True
        log(f'failed: {error!r}')
        raise
    finally:
        signal.alarm(0)
        harness.stop()


if __name__ == '__main__':
    main()
