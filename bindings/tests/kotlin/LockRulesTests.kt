// What the locks enforce, through the bindings against a real cloud: the owner's tag is their
// master key and stays so; a tenant's key gets offline access; Near Detection Mode without an
// IQ is refused; a fixed locker is for one person.

import com.keyway.api.LockerAssignment
import com.keyway.api.SiteRole
import com.keyway.api.UpdateLockSettingsRequest
import com.keyway.api.UpdateTagRequest
import com.keyway.core.BleTransport
import com.keyway.core.Keyway
import com.keyway.core.KeywayConfig
import com.keyway.core.KeywayException
import com.keyway.core.PeopleListRequest
import com.keyway.core.fileSecureStore
import com.keyway.core.installSimulatedLocks
import com.keyway.core.logInWithPassword
import com.keyway.core.softwareDeviceSigner
import kotlinx.coroutines.runBlocking
import java.io.File
import java.math.BigInteger
import java.nio.file.Files
import java.security.KeyPairGenerator
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

private const val RULES_PASSWORD = "a long enough password"

private fun rulesPhone(cloud: String, name: String, transport: BleTransport?): Keyway {
    val dir = Files.createTempDirectory("keyway-$name").toFile()
    val store = fileSecureStore(File(dir, "secure-store.json").path)
    return Keyway(KeywayConfig(cloud, dir.path, "$name's phone", "cli"), store, softwareDeviceSigner(store), transport)
}

/** A 32-byte big-endian coordinate. */
private fun coordinate(value: BigInteger): ByteArray {
    val bytes = value.toByteArray().dropWhile { it == 0.toByte() }.toByteArray()
    return ByteArray(32 - bytes.size) + bytes
}

/** The public half of a key made on a new card: 65 bytes, uncompressed P-256 point. */
private fun cardPublicKey(): ByteArray {
    val generator = KeyPairGenerator.getInstance("EC")
    generator.initialize(ECGenParameterSpec("secp256r1"))
    val point = (generator.generateKeyPair().public as ECPublicKey).w
    return byteArrayOf(4) + coordinate(point.affineX) + coordinate(point.affineY)
}

fun lockRulesTests(suite: TestSuite) {
    suite.test("the owner's tag is a fixed master key, offline access reaches the key, settings and lockers are checked") {
        val cloud = cloudUrl()
        runBlocking {
            val run = System.nanoTime()
            val ownerEmail = "owner-$run@rules.kotlin.test"
            val owner = rulesPhone(cloud, "owner", null)
            signUpVerified(owner, ownerEmail, ownerEmail, RULES_PASSWORD)
            logInWithPassword(owner, ownerEmail, RULES_PASSWORD)
            val site = owner.admin().createSite("Rules", 0)
            val locks = installSimulatedLocks(owner, site.siteId, site.authorityPublicKey, listOf("Front", "Locker"))
            val (front, locker) = locks.lockIds()
            val ownerId = owner.admin().listPeople(
                site.siteId, PeopleListRequest(null, null, null, SiteRole.OWNER, null, null),
            ).people.single().userId
            val tenantEmail = "tenant-$run@rules.kotlin.test"
            val tenant = owner.admin().addPerson(site.siteId, tenantEmail, "Tenant", SiteRole.USER)
            owner.admin().createAccessGroup(site.siteId, "All", listOf(front), listOf(tenant.userId, ownerId), listOf())

            val tagId = "%014x".format(run and 0xffffffffffffL)
            val tag = owner.admin().registerTag(site.siteId, tagId, cardPublicKey(), ownerId)
            assertTrue(tag.masterKey && tag.masterKeyFixed && tag.offlineAccess)
            assertFailsWith<KeywayException.NotAllowed> {
                owner.admin().updateTag(site.siteId, tagId, UpdateTagRequest(null, true, null, null))
            }

            val phone = rulesPhone(cloud, "tenant", locks.transport())
            signUpVerified(phone, tenantEmail, tenantEmail, RULES_PASSWORD)
            logInWithPassword(phone, tenantEmail, RULES_PASSWORD)
            phone.devices().register()
            phone.wallet().sync()
            assertFalse(phone.wallet().keys().single().worksOffline)
            assertTrue(owner.admin().setOfflineAccess(site.siteId, tenant.userId, true).offlineAccess)
            phone.wallet().sync()
            assertTrue(phone.wallet().keys().single().worksOffline, "the reissued key works offline")

            assertFailsWith<KeywayException.NotAllowed> {
                owner.admin().updateLockSettings(site.siteId, front, UpdateLockSettingsRequest(null, true, null))
            }
            assertFailsWith<KeywayException.InvalidInput> {
                owner.admin().setLocker(site.siteId, locker, LockerAssignment.FIXED, listOf(tenant.userId, ownerId))
            }
            val view = owner.admin().setLocker(site.siteId, locker, LockerAssignment.FAMILY, listOf(tenant.userId, ownerId))
            assertEquals(2, view.userIds.size)
            assertTrue(view.occupied)
        }
    }
}
