// Pods through the bindings against a real cloud: a member invites a guest by e-mail, the guest
// reads the e-mail the cloud delivered, signs up, accepts the code and opens the pod's door;
// after check-out and after a block the lock refuses.
//
// Runs against the cloud `cargo xtask test kotlin` starts (-Dkeyway.cloud, and -Dkeyway.cloud.mailbox
// holding the e-mails the cloud delivered), with simulated locks installed by
// `installSimulatedLocks`.

import com.keyway.api.PodMemberInput
import com.keyway.api.PodPersonStatus
import com.keyway.api.PodRole
import com.keyway.protocol.RefusalReason
import com.keyway.core.BleTransport
import com.keyway.core.Keyway
import com.keyway.core.KeywayConfig
import com.keyway.core.RefusalAdvice
import com.keyway.core.fileSecureStore
import com.keyway.core.installSimulatedLocks
import com.keyway.core.logInWithPassword
import com.keyway.core.softwareDeviceSigner
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

private const val PASSWORD = "a long enough password"

/** A phone: its own directory, file secure store, software device key, and radio. */
private fun phone(cloud: String, name: String, transport: BleTransport?): Keyway {
    val dir = Files.createTempDirectory("keyway-$name").toFile()
    val store = fileSecureStore(File(dir, "secure-store.json").path)
    val config = KeywayConfig(cloud, dir.path, "$name's phone", "cli")
    return Keyway(config, store, softwareDeviceSigner(store), transport)
}

/** Signs up and logs in through the cloud's real login form. */
private suspend fun person(cloud: String, email: String, transport: BleTransport?): Keyway {
    val keyway = phone(cloud, email.substringBefore('@'), transport)
    signUpVerified(keyway, email, email, PASSWORD)
    logInWithPassword(keyway, email, PASSWORD)
    return keyway
}

/** The invitation code in the latest e-mail to [to] in the cloud's local mailbox. */
private fun invitationCode(to: String): String =
    latestMailMatch(to, Regex("[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}"))

fun podsTests(suite: TestSuite) {
    suite.test("a guest invited by e-mail redeems, opens the pod's door, and is refused after check-out and once blocked") {
        val cloud = cloudUrl()
        runBlocking {
            val run = System.nanoTime()
            val owner = person(cloud, "owner-$run@kotlin.test", null)
            val site = owner.admin().createSite("Kotlin site", 0)
            val locks = installSimulatedLocks(owner, site.siteId, site.authorityPublicKey, listOf("Door", "Storage"))
            val (door, storage) = locks.lockIds()
            val memberEmail = "member-$run@kotlin.test"
            val member = person(cloud, memberEmail, locks.transport())
            val pod = owner.pods().createPod(site.siteId, "Apartment 201", listOf(PodMemberInput("Mia", memberEmail)), listOf(door))
            // Shown as invited until the member uses Keyway: adding an address tells nobody
            // whether it has an account.
            assertEquals(PodPersonStatus.INVITED, pod.members.single().status)
            member.devices().register()
            member.wallet().sync()
            assertEquals(PodPersonStatus.ACTIVE, owner.pods().pod(pod.podId).members.single().status)

            val now = System.currentTimeMillis() / 1000
            val guestEmail = "guest-$run@kotlin.test"
            val invited = member.pods().inviteGuest(pod.podId, guestEmail, listOf(door), now - 60, now + 3600)
            assertEquals(PodPersonStatus.INVITED, invited.status)
            assertFalse(invited.remoteOpening)

            val code = invitationCode(guestEmail)
            val guest = person(cloud, guestEmail, locks.transport())
            val accepted = guest.pods().acceptInvitation(code)
            assertEquals(PodRole.GUEST, accepted.pod.role)
            assertEquals(1u, accepted.sync.keys)
            val opened = guest.wallet().unlock(door)
            assertTrue(opened.granted, "refused: ${opened.refusal}")
            assertEquals(now + 3600, guest.wallet().keys().single().notAfter)

            val outside = runCatching { guest.wallet().unlock(storage) }
            assertTrue(outside.isFailure, "no key outside the pod")

            locks.setLockClock(door, now + 3600 + 60)
            assertEquals(RefusalReason.EXPIRED, guest.wallet().unlock(door).refusal)
            locks.setLockClock(door, System.currentTimeMillis() / 1000)

            member.pods().blockGuest(pod.podId, invited.guestId)
            member.wallet().sync()
            assertTrue(member.wallet().unlock(door).granted, "the member carries the block to the door")
            val blocked = guest.wallet().unlock(door)
            assertEquals(RefusalReason.REVOKED, blocked.refusal)
            assertEquals(RefusalAdvice.SYNC_KEYS, blocked.advice, "the app is told to sync")
            assertNotNull(blocked.refusalMessage)
        }
    }
}
