// Diagnostics (issue 11, item 5): a LogSink implemented in Kotlin receives the core's records
// during a sign-up, login and device registration, at trace level, and none of them holds the password or the
// verification code.

import com.keyway.core.Keyway
import com.keyway.core.KeywayConfig
import com.keyway.core.LogLevel
import com.keyway.core.LogRecord
import com.keyway.core.LogSink
import com.keyway.core.fileSecureStore
import com.keyway.core.initLogging
import com.keyway.core.logInWithPassword
import com.keyway.core.softwareDeviceSigner
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.test.assertFalse
import kotlin.test.assertTrue

private const val LOG_PASSWORD = "a long enough password"

/** Collects every record the core sends, from any of its threads. */
class CollectingLogSink : LogSink {
    val records = ConcurrentLinkedQueue<LogRecord>()

    override fun log(record: LogRecord) {
        records.add(record)
    }
}

fun loggingTests(suite: TestSuite) {
    suite.test("a Kotlin LogSink receives the core's records during a login, and no secret") {
        runBlocking {
            val sink = CollectingLogSink()
            assertTrue(initLogging(sink, LogLevel.TRACE), "the core's subscriber is installed")
            val stamp = System.nanoTime()
            val email = "logs-$stamp@kotlin.test"
            val dir = Files.createTempDirectory("keyway-logs").toFile()
            val store = fileSecureStore(File(dir, "secrets.json").path)
            val phone = Keyway(KeywayConfig(cloudUrl(), File(dir, "phone").path, "Logs JVM", "cli"), store, softwareDeviceSigner(store), null)
            signUpVerified(phone, email, "Logs", LOG_PASSWORD)
            logInWithPassword(phone, email, LOG_PASSWORD)
            assertTrue(phone.auth().isLoggedIn())
            phone.devices().register()

            val code = latestMailMatch(email, VERIFICATION_CODE)
            val lines = sink.records.map { "${it.level} ${it.target} ${it.message}" }
            for (expected in listOf("login started", "login finished", "e-mail address verified")) {
                assertTrue(
                    sink.records.any { it.target.startsWith("keyway_core::auth") && it.message.contains(expected) },
                    "no auth record with \"$expected\" in ${lines.size} records",
                )
            }
            assertTrue(sink.records.any { it.target == "keyway_core::devices" && it.message.contains("device registered") })
            assertTrue(sink.records.any { it.level == LogLevel.TRACE }, "trace records are forwarded")
            for (secret in listOf(LOG_PASSWORD, code, code.replace("-", ""))) {
                assertFalse(lines.any { it.contains(secret) }, "a secret reached the log")
            }
            // Back to a quiet level for the tests that follow.
            initLogging(sink, LogLevel.WARN)
        }
    }
}
