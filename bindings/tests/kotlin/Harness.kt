// A dependency-free test runner: kotlin.test assertions, counted passes and failures.

import java.io.File

/** Runs named tests, prints one line each, and sums them up. */
class TestSuite {
    private var passed = 0
    private val failures = mutableListOf<String>()

    /** Runs [body]; any throwable (a failed assertion included) fails the test. */
    fun test(name: String, body: () -> Unit) {
        val started = System.nanoTime()
        try {
            body()
            passed += 1
            println("ok   $name (${elapsedMs(started)} ms)")
        } catch (t: Throwable) {
            failures += name
            println("FAIL $name: $t")
            t.printStackTrace(System.out)
        }
    }

    /** Prints the summary and returns the process exit code: 0 only when tests ran and all passed. */
    fun finish(): Int {
        if (failures.isNotEmpty()) {
            println("failed: ${failures.joinToString(", ")}")
        }
        println("kotlin: $passed passed, ${failures.size} failed")
        return if (failures.isEmpty() && passed > 0) 0 else 1
    }

    private fun elapsedMs(started: Long): Long = (System.nanoTime() - started) / 1_000_000
}

/** The protocol test vectors directory (system property `keyway.vectors`). */
fun vectorsDir(): File = File(System.getProperty("keyway.vectors") ?: "protocol/vectors")

/** The cloud `cargo xtask test` started for this run (system property `keyway.cloud`). */
fun cloudUrl(): String = System.getProperty("keyway.cloud") ?: error("-Dkeyway.cloud is not set: run through `cargo xtask test kotlin`")

/** That cloud's local mailbox (system property `keyway.cloud.mailbox`): the e-mails it delivered. */
fun cloudMailbox(): File = File(System.getProperty("keyway.cloud.mailbox") ?: error("-Dkeyway.cloud.mailbox is not set: run through `cargo xtask test kotlin`"))

/** Parses one vectors file as a JSON object. */
fun loadVector(name: String): Map<String, Any?> {
    val file = File(vectorsDir(), name)
    require(file.isFile) { "missing test vector ${file.absolutePath}" }
    @Suppress("UNCHECKED_CAST")
    return Json.parse(file.readText()) as Map<String, Any?>
}

fun hexToBytes(hex: String): ByteArray {
    require(hex.length % 2 == 0) { "odd-length hex" }
    return ByteArray(hex.length / 2) { i -> hex.substring(2 * i, 2 * i + 2).toInt(16).toByte() }
}

// Typed accessors for parsed JSON.
fun Map<String, Any?>.str(key: String): String = this[key] as? String ?: error("no string `$key`")
fun Map<String, Any?>.long(key: String): Long = this[key] as? Long ?: error("no integer `$key`")
fun Map<String, Any?>.bool(key: String): Boolean = this[key] as? Boolean ?: error("no boolean `$key`")
@Suppress("UNCHECKED_CAST")
fun Map<String, Any?>.obj(key: String): Map<String, Any?> = this[key] as? Map<String, Any?> ?: error("no object `$key`")
@Suppress("UNCHECKED_CAST")
fun Map<String, Any?>.list(key: String): List<Any?> = this[key] as? List<Any?> ?: error("no array `$key`")
@Suppress("UNCHECKED_CAST")
fun Map<String, Any?>.objects(key: String): List<Map<String, Any?>> = list(key).map { it as Map<String, Any?> }
