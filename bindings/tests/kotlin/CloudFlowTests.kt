// Issue 4: login and key sync through the generated bindings against the real cloud that
// `cargo xtask test kotlin` starts (-Dkeyway.cloud). An admin signs up, creates a site with
// simulated locks and a tenant; the tenant's phone, whose secure store is Kotlin code, logs in
// through the cloud's login form, registers, syncs its key, opens the door over the simulated
// radio and uploads the lock's event.

import com.keyway.api.PersonStatus
import com.keyway.api.SiteRole
import com.keyway.core.BleTransport
import com.keyway.core.Keyway
import com.keyway.core.KeywayConfig
import com.keyway.core.KeywayException
import com.keyway.core.PlatformException
import com.keyway.core.SecureStore
import com.keyway.core.fileSecureStore
import com.keyway.core.installSimulatedLocks
import com.keyway.core.logInWithPassword
import com.keyway.core.softwareDeviceSigner
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentHashMap
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

private const val PASSWORD = "a long enough password"

/** A secure store in a Kotlin map: the core calls it through the generated foreign trait. */
class InMemorySecureStore : SecureStore {
    private val values = ConcurrentHashMap<String, ByteArray>()

    /** How often the core called each method, to show the calls really came here. */
    val calls = ConcurrentHashMap<String, Int>()

    /** The keys stored now. */
    fun keys(): Set<String> = values.keys.toSet()

    override fun get(key: String): ByteArray? {
        count("get")
        return values[key]?.copyOf()
    }

    override fun put(key: String, value: ByteArray) {
        count("put")
        if (key.isEmpty()) throw PlatformException.Failed("empty key")
        values[key] = value.copyOf()
    }

    override fun delete(key: String) {
        count("delete")
        values.remove(key)
    }

    private fun count(method: String) {
        calls.merge(method, 1, Int::plus)
    }
}

fun cloudFlowTests(suite: TestSuite) {
    val dir: File by lazy { Files.createTempDirectory("keyway-cloud-flow").toFile() }

    /** A phone with its own data directory, [store], a software device key kept in it, and [radio]. */
    fun phone(name: String, store: SecureStore, radio: BleTransport?): Keyway = Keyway(
        KeywayConfig(cloudUrl(), File(dir, name).path, "$name's JVM", "cli"),
        store,
        softwareDeviceSigner(store),
        radio,
    )

    /** A phone with a file secure store. */
    fun filePhone(name: String, radio: BleTransport?): Keyway =
        phone(name, fileSecureStore(File(dir, "$name-secrets.json").path), radio)

    suite.test("a tenant with a Kotlin SecureStore logs in, syncs one key, unlocks and uploads the event") {
        runBlocking {
            val stamp = System.nanoTime()
            val adminEmail = "admin-$stamp@kotlin.test"
            val tenantEmail = "tenant-$stamp@kotlin.test"

            val admin = filePhone("admin-$stamp", null)
            signUpVerified(admin, adminEmail, "Admin", PASSWORD)
            logInWithPassword(admin, adminEmail, PASSWORD)
            assertTrue(admin.auth().isLoggedIn())
            val site = admin.admin().createSite("Kotlin site $stamp", 60)
            assertEquals(65, site.authorityPublicKey.size)
            val locks = installSimulatedLocks(admin, site.siteId, site.authorityPublicKey, listOf("Front", "Back"))
            val (front, back) = locks.lockIds()
            val tenant = admin.admin().addPerson(site.siteId, tenantEmail, "Tenant", SiteRole.USER)
            assertEquals(SiteRole.USER, tenant.role)
            assertEquals(PersonStatus.INVITED, tenant.status, "a new address is invited, not given an account")
            val group = admin.admin().createAccessGroup(site.siteId, "Tenants", listOf(front), listOf(tenant.userId), emptyList())
            assertEquals(listOf(tenant.userId), group.userIds)

            val store = InMemorySecureStore()
            val phone = phone("tenant-$stamp", store, locks.transport())
            assertFalse(phone.auth().isLoggedIn())
            signUpVerified(phone, tenantEmail, "Tenant", PASSWORD)
            logInWithPassword(phone, tenantEmail, PASSWORD)
            assertTrue(phone.auth().isLoggedIn())
            assertContains(store.keys(), "keyway.tokens", "the session is in the Kotlin store")
            assertTrue((store.calls["put"] ?: 0) >= 2, "device key and tokens put: ${store.calls}")

            val device = phone.devices().register()
            assertEquals(device.deviceId, phone.devices().currentDeviceId())
            val synced = phone.wallet().sync()
            assertEquals(1u, synced.keys)
            assertEquals(1u, synced.added)
            val key = phone.wallet().keys().single()
            assertEquals(site.siteId, key.siteId)
            assertEquals(listOf(front), key.locks.map { it.lockId })
            assertEquals("Front", key.locks.single().name)
            assertTrue(key.validNow)

            val report = phone.wallet().unlock(front)
            assertTrue(report.granted, "refused: ${report.refusal} ${report.refusalMessage}")
            assertNull(report.refusal)
            val event = locks.events(front).last()
            assertTrue(event.granted)
            assertEquals(tenant.userId, event.userId)
            assertEquals(key.credentialId, event.credentialId)
            assertTrue(locks.events(back).isEmpty(), "nothing happened at the back door")
            assertFailsWith<KeywayException.NotAllowed>("no key for the back door") { phone.wallet().unlock(back) }

            assertEquals(1u, phone.events().pending())
            val uploaded = phone.events().upload()
            assertEquals(1u, uploaded.stored)
            assertEquals(0u, uploaded.duplicates)
            assertEquals(0u, uploaded.rejected)
            assertEquals(0u, phone.events().pending())

            // The session lives in the Kotlin store: another core over it is logged in too.
            val again = phone("tenant-again-$stamp", store, null)
            assertTrue(again.auth().isLoggedIn())
            phone.auth().logout()
            assertFalse(phone.auth().isLoggedIn())
            assertFalse("keyway.tokens" in store.keys(), "logout deletes the tokens: ${store.keys()}")
        }
    }

    suite.test("cancelling an unlock mid-handshake closes the link and leaves nothing half-written") {
        runBlocking {
            val stamp = System.nanoTime()
            val adminEmail = "admin-cancel-$stamp@kotlin.test"
            val tenantEmail = "tenant-cancel-$stamp@kotlin.test"
            val admin = filePhone("admin-cancel-$stamp", null)
            signUpVerified(admin, adminEmail, "Admin", PASSWORD)
            logInWithPassword(admin, adminEmail, PASSWORD)
            val site = admin.admin().createSite("Kotlin cancel site $stamp", 0)
            val locks = installSimulatedLocks(admin, site.siteId, site.authorityPublicKey, listOf("Front"))
            val front = locks.lockIds().single()
            val tenant = admin.admin().addPerson(site.siteId, tenantEmail, "Tenant", SiteRole.USER)
            admin.admin().createAccessGroup(site.siteId, "Tenants", listOf(front), listOf(tenant.userId), emptyList())
            // MTU 23 and 60 ms a packet: the request alone takes about a second to write.
            val phone = filePhone("tenant-cancel-$stamp", locks.slowTransport(60u))
            signUpVerified(phone, tenantEmail, "Tenant", PASSWORD)
            logInWithPassword(phone, tenantEmail, PASSWORD)
            phone.devices().register()
            phone.wallet().sync()
            val eventsBefore = locks.events(front).size

            val outcome = withTimeoutOrNull(300) { phone.wallet().unlock(front) }
            assertNull(outcome, "the coroutine was cancelled mid-handshake")
            var connected = true
            repeat(100) {
                if (connected) {
                    connected = locks.isConnected(front)
                    if (connected) delay(20)
                }
            }
            assertFalse(connected, "the lock saw the link close")
            assertEquals(eventsBefore, locks.events(front).size, "no answer, no event at the lock")
            assertEquals(0u, phone.events().pending(), "nothing queued on the phone")
            assertTrue(phone.wallet().unlock(front).granted, "the next unlock works")
        }
    }

    suite.test("a wrong password throws KeywayException.NotAllowed and leaves the phone logged out") {
        runBlocking {
            val stamp = System.nanoTime()
            val email = "someone-$stamp@kotlin.test"
            val phone = phone("someone-$stamp", InMemorySecureStore(), null)
            signUpVerified(phone, email, "Someone", PASSWORD)
            assertFailsWith<KeywayException.NotAllowed> {
                logInWithPassword(phone, email, "not the password")
            }
            assertFalse(phone.auth().isLoggedIn())
            assertFailsWith<KeywayException.ReLogin>("no session, no registration") { phone.devices().register() }
            logInWithPassword(phone, email, PASSWORD)
            assertTrue(phone.auth().isLoggedIn())
        }
    }

    suite.test("an unknown simulated lock id throws KeywayException.InvalidInput") {
        runBlocking {
            val stamp = System.nanoTime()
            val email = "owner-$stamp@kotlin.test"
            val admin = filePhone("owner-$stamp", null)
            signUpVerified(admin, email, "Owner", PASSWORD)
            logInWithPassword(admin, email, PASSWORD)
            val site = admin.admin().createSite("Kotlin site $stamp", 0)
            val locks = installSimulatedLocks(admin, site.siteId, site.authorityPublicKey, listOf("Only"))
            assertEquals(1, locks.lockIds().size)
            assertFailsWith<KeywayException.InvalidInput> { locks.events(0u) }
            assertFailsWith<KeywayException.InvalidInput> { locks.setLockClock(0u, 0) }
        }
    }
}
