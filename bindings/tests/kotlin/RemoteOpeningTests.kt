// Remote opening through the bindings: a Kotlin UserVerifier (the biometric prompt) and
// Kotlin DeviceSigners (the device key and the biometric-bound key, java.security P-256)
// drive a remote opening against a real cloud and a simulated IQ with its lock.
//
// Needs a running cloud: the system property `keyway.cloud` (e.g. http://127.0.0.1:8080);
// Main.kt registers these tests only when it is set.

import com.keyway.api.SiteRole
import com.keyway.core.DeviceSigner
import com.keyway.core.Keyway
import com.keyway.core.KeywayConfig
import com.keyway.core.KeywayException
import com.keyway.core.PlatformException
import com.keyway.core.RemoteGate
import com.keyway.core.UserVerifier
import com.keyway.core.fileSecureStore
import com.keyway.core.installSimulatedRemoteSite
import com.keyway.core.logInWithPassword
import kotlinx.coroutines.runBlocking
import java.io.File
import java.math.BigInteger
import java.nio.file.Files
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

private const val PASSWORD = "a long enough password"

/** A P-256 key in the JVM, as the Android Keystore would hold it: DER signatures. */
class JvmDeviceSigner : DeviceSigner {
    private val pair: KeyPair = KeyPairGenerator.getInstance("EC")
        .apply { initialize(ECGenParameterSpec("secp256r1")) }
        .generateKeyPair()

    override suspend fun publicKey(): ByteArray {
        val point = (pair.public as ECPublicKey).w
        return byteArrayOf(4) + coordinate(point.affineX) + coordinate(point.affineY)
    }

    override suspend fun sign(message: ByteArray): ByteArray =
        Signature.getInstance("SHA256withECDSA").run {
            initSign(pair.private)
            update(message)
            sign()
        }

    private fun coordinate(value: BigInteger): ByteArray {
        val bytes = value.toByteArray()
        return when {
            bytes.size == 32 -> bytes
            bytes.size > 32 -> bytes.copyOfRange(bytes.size - 32, bytes.size)
            else -> ByteArray(32 - bytes.size) + bytes
        }
    }
}

/** The biometric prompt: answers as told and remembers what it was asked. */
class JvmUserVerifier(@Volatile var recognises: Boolean = true) : UserVerifier {
    val reasons = mutableListOf<String>()
    /** The person dismisses the prompt (the platform reports a cancellation). */
    @Volatile var dismissed: Boolean = false

    override suspend fun verify(reason: String): Boolean {
        synchronized(reasons) { reasons += reason }
        if (dismissed) throw PlatformException.Cancelled()
        return recognises
    }
}

fun remoteOpeningTests(suite: TestSuite, cloud: String) {
    val dir: File = Files.createTempDirectory("keyway-remote").toFile()
    fun phone(name: String, signer: DeviceSigner): Keyway = Keyway(
        KeywayConfig(cloud, File(dir, name).path, "$name's JVM", "cli"),
        fileSecureStore(File(dir, "$name-secrets.json").path),
        signer,
        null,
    )

    suite.test("a Kotlin verifier and signer open a lock remotely through the IQ") {
        runBlocking {
            val stamp = System.nanoTime()
            val ownerEmail = "owner-$stamp@kotlin.test"
            val tenantEmail = "tenant-$stamp@kotlin.test"
            val owner = phone("owner-$stamp", JvmDeviceSigner())
            signUpVerified(owner, ownerEmail, "Owner", PASSWORD)
            logInWithPassword(owner, ownerEmail, PASSWORD)
            val site = owner.admin().createSite("Kotlin site", 0)
            val hardware = installSimulatedRemoteSite(
                owner, cloud, site.siteId, site.authorityPublicKey, listOf("Front"),
            )
            assertTrue(hardware.iqConnected(), "the IQ logged in")
            val lockId = hardware.lockIds().first()
            val tenant = owner.admin().addPerson(site.siteId, tenantEmail, "Tenant", SiteRole.USER)
            owner.admin().createAccessGroup(site.siteId, "Remote", listOf(lockId), listOf(tenant.userId), emptyList())
            owner.admin().setRemoteRights(site.siteId, tenant.userId, true, false)

            val phone = phone("tenant-$stamp", JvmDeviceSigner())
            signUpVerified(phone, tenantEmail, "Tenant", PASSWORD)
            logInWithPassword(phone, tenantEmail, PASSWORD)
            phone.devices().register()
            val verifier = JvmUserVerifier()
            val biometricKey = JvmDeviceSigner()
            phone.remote().enrollBiometric(verifier, biometricKey)

            val report = phone.remote().open(site.siteId, lockId, RemoteGate.Biometric)
            assertTrue(report.granted, "refused: ${report.refusal} ${report.refusalMessage}")
            assertEquals(1uL, hardware.unlockCount(lockId))
            assertEquals(2, verifier.reasons.size, "prompted to enrol and to open: ${verifier.reasons}")
            assertTrue(report.lockMs >= 0.0 && report.cloudMs > 0.0, "timings $report")
            assertTrue(hardware.lockEvents(lockId).last().granted)

            verifier.recognises = false
            assertFailsWith<KeywayException.NotAllowed> {
                phone.remote().open(site.siteId, lockId, RemoteGate.Biometric)
            }
            verifier.recognises = true
            verifier.dismissed = true
            assertFailsWith<KeywayException.Cancelled>("a dismissed prompt is a cancellation") {
                phone.remote().open(site.siteId, lockId, RemoteGate.Biometric)
            }
            verifier.dismissed = false
            phone.remote().useBiometric(verifier, JvmDeviceSigner())
            assertFailsWith<KeywayException.NotAllowed>("another biometric key than the enrolled one") {
                phone.remote().open(site.siteId, lockId, RemoteGate.Biometric)
            }
            assertEquals(1uL, hardware.unlockCount(lockId), "another key opened nothing")

            phone.remote().setPin(PASSWORD, "2468")
            assertTrue(phone.remote().open(site.siteId, lockId, RemoteGate.Pin("2468")).granted)
            assertFailsWith<KeywayException.WrongPin> {
                phone.remote().open(site.siteId, lockId, RemoteGate.Pin("1357"))
            }
            hardware.stop()
            assertFailsWith<KeywayException.Retry> {
                phone.remote().open(site.siteId, lockId, RemoteGate.Pin("2468"))
            }
            assertEquals(2uL, hardware.unlockCount(lockId))
        }
    }
}
