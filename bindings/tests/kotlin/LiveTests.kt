// Live changes (issue 13): a ChangeObserver implemented in Kotlin hears, within a second and
// with no sync call from the test, that an administrator granted the phone a key and then
// revoked it; the core synced the wallet before telling it.

import com.keyway.api.SiteRole
import com.keyway.core.ChangeObserver
import com.keyway.core.Keyway
import com.keyway.core.KeywayConfig
import com.keyway.core.fileSecureStore
import com.keyway.core.installSimulatedLocks
import com.keyway.core.logInWithPassword
import com.keyway.core.softwareDeviceSigner
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

private const val LIVE_PASSWORD = "a long enough password"

/** Counts the core's calls, made on its threads. */
class CountingObserver : ChangeObserver {
    val keys = AtomicInteger()
    val pods = AtomicInteger()
    val remote = AtomicInteger()
    val ended = AtomicInteger()

    override fun keysChanged() {
        keys.incrementAndGet()
    }

    override fun podsChanged() {
        pods.incrementAndGet()
    }

    override fun remoteLocksChanged() {
        remote.incrementAndGet()
    }

    override fun sessionEnded() {
        ended.incrementAndGet()
    }
}

/** Polls [done] every 10 ms for at most five seconds. */
private suspend fun within5s(what: String, done: suspend () -> Boolean) {
    val deadline = System.nanoTime() + 5_000_000_000L
    while (System.nanoTime() < deadline) {
        if (done()) return
        delay(10)
    }
    error("$what: not within 5 s")
}

fun liveTests(suite: TestSuite) {
    suite.test("a Kotlin ChangeObserver hears a granted and a revoked key, the wallet already synced") {
        runBlocking {
            val stamp = System.nanoTime()
            val dir = Files.createTempDirectory("keyway-live").toFile()
            fun phone(name: String): Keyway {
                val store = fileSecureStore(File(dir, "$name-secrets.json").path)
                return Keyway(KeywayConfig(cloudUrl(), File(dir, name).path, "$name's JVM", "cli"), store, softwareDeviceSigner(store), null)
            }
            val adminEmail = "admin-live-$stamp@kotlin.test"
            val tenantEmail = "tenant-live-$stamp@kotlin.test"
            val admin = phone("admin")
            signUpVerified(admin, adminEmail, "Admin", LIVE_PASSWORD)
            logInWithPassword(admin, adminEmail, LIVE_PASSWORD)
            val site = admin.admin().createSite("Kotlin live site $stamp", 0)
            val locks = installSimulatedLocks(admin, site.siteId, site.authorityPublicKey, listOf("Front"))
            val front = locks.lockIds().single()
            val tenant = admin.admin().addPerson(site.siteId, tenantEmail, "Tenant", SiteRole.USER)

            val phone = phone("tenant")
            signUpVerified(phone, tenantEmail, "Tenant", LIVE_PASSWORD)
            logInWithPassword(phone, tenantEmail, LIVE_PASSWORD)
            phone.devices().register()
            val observer = CountingObserver()
            phone.live().start(observer)
            within5s("the first sync of the connection") { observer.keys.get() >= 1 }
            assertTrue(phone.live().isRunning())
            assertTrue(phone.wallet().keys().isEmpty())

            val told = observer.keys.get()
            val group = admin.admin().createAccessGroup(site.siteId, "Tenants", listOf(front), listOf(tenant.userId), emptyList())
            within5s("the granted key") { phone.wallet().keys().size == 1 && observer.keys.get() > told }
            assertEquals(listOf(front), phone.wallet().keys().single().locks.map { it.lockId })

            admin.admin().setGroupMembers(site.siteId, group.groupId, emptyList())
            within5s("the revocation") { phone.wallet().keys().isEmpty() }
            assertEquals(0, observer.ended.get())

            phone.live().stop()
            assertFalse(phone.live().isRunning())
        }
    }
}
