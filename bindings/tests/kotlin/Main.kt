// Kotlin binding tests, run on the JVM against the debug libkeyway_core.so through JNA.
//
// `cargo xtask test` compiles the generated bindings (target/bindings/kotlin) and these files
// into one jar and runs `MainKt` with -Djna.library.path=target/debug,
// -Dkeyway.vectors=protocol/vectors, and -Dkeyway.cloud=URL -Dkeyway.cloud.mailbox=DIR naming the
// cloud it started for the run and its local mailbox (Harness.kt: cloudUrl(), cloudMailbox()). There is no JUnit
// here: `TestSuite` runs each test, counts passes and failures, and the process exits non-zero
// on any failure.

import kotlin.system.exitProcess

fun main() {
    val suite = TestSuite()
    versionTests(suite)
    iqCodeTests(suite)
    credentialTests(suite)
    simulatedSiteTests(suite)
    cloudFlowTests(suite)
    loggingTests(suite)
    podsTests(suite)
    liveTests(suite)
    lockRulesTests(suite)
    System.getProperty("keyway.cloud")?.let { remoteOpeningTests(suite, it) }
    exitProcess(suite.finish())
}
