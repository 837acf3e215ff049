// The smallest round trip: a string from Rust.

import com.keyway.core.keywayCoreVersion
import kotlin.test.assertTrue

fun versionTests(suite: TestSuite) {
    suite.test("keywayCoreVersion is a semantic version") {
        val version = keywayCoreVersion()
        assertTrue(Regex("""\d+\.\d+\.\d+([-+].*)?""").matches(version), "version was '$version'")
    }
}
