// The e-mails the test cloud delivered to its local mailbox (`-Dkeyway.cloud.mailbox`),
// read as the person they were sent to would: verification codes and invitation codes.

import com.keyway.core.Keyway
import java.io.File

/** The first match of [pattern] in the latest e-mail to [to] that has one (waits up to 5 s). */
fun latestMailMatch(to: String, pattern: Regex): String {
    repeat(250) {
        val found = cloudMailbox().listFiles { f -> f.name.endsWith(".json") && !f.name.startsWith(".") }
            .orEmpty()
            .sortedBy { it.name }
            .map { Json.parse(it.readText()) as Map<*, *> }
            .filter { it["to"] == to }
            .mapNotNull { pattern.find(it["body"] as String)?.value }
            .lastOrNull()
        if (found != null) return found
        Thread.sleep(20)
    }
    error("no e-mail to $to matching $pattern")
}

/** An 8-digit verification code, as the cloud writes it (`1234-5678`). */
val VERIFICATION_CODE = Regex("\\b[0-9]{4}-[0-9]{4}\\b")

/** Signs up as [email], reads the code the cloud e-mailed and confirms the address with it. */
suspend fun signUpVerified(keyway: Keyway, email: String, name: String, password: String) {
    val started = keyway.auth().signUp(email, name, password)
    kotlin.test.assertEquals(email.lowercase(), started.email)
    val account = keyway.auth().verifyEmail(email, latestMailMatch(email, VERIFICATION_CODE), password)
    kotlin.test.assertEquals(email.lowercase(), account.email)
}
