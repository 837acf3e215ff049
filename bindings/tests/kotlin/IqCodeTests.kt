// IQ codes against protocol/vectors/iq_code.json.

import com.keyway.core.KeywayException
import com.keyway.core.iqCodeAt
import com.keyway.core.iqCodeMatchingStep
import com.keyway.core.iqCodeNow
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun iqCodeTests(suite: TestSuite) {
    val vector = loadVector("iq_code.json")
    val secret = hexToBytes(vector.str("secret_hex"))
    val stepSeconds = vector.long("step_seconds")
    val alphabet = vector.str("alphabet")
    val cases = vector.objects("cases")

    suite.test("iqCodeAt matches every vector case (${cases.size})") {
        assertTrue(cases.isNotEmpty(), "no cases in iq_code.json")
        for (case in cases) {
            val at = case.long("unix_seconds")
            val got = iqCodeAt(secret, at)
            assertEquals(case.str("code"), got.code, "code at $at")
            assertEquals(case.long("step").toULong(), got.step, "step at $at")
            assertEquals(case.long("seconds_left").toUInt(), got.secondsLeft, "secondsLeft at $at")
        }
    }

    suite.test("codes are five characters of the vector alphabet") {
        for (case in cases) {
            val code = iqCodeAt(secret, case.long("unix_seconds")).code
            assertEquals(5, code.length, code)
            assertTrue(code.all { it in alphabet }, "'$code' uses a character outside $alphabet")
        }
    }

    suite.test("iqCodeMatchingStep accepts +-1 step and refuses 2 steps away") {
        for (case in cases) {
            val step = case.long("step")
            if (step < 2) continue
            val code = case.str("code")
            val stepStart = step * stepSeconds
            assertEquals(step.toULong(), iqCodeMatchingStep(secret, code, stepStart), "same step")
            assertEquals(step.toULong(), iqCodeMatchingStep(secret, code, stepStart - stepSeconds), "one step early")
            assertEquals(step.toULong(), iqCodeMatchingStep(secret, code, stepStart + stepSeconds), "one step late")
            assertNull(iqCodeMatchingStep(secret, code, stepStart + 2 * stepSeconds), "two steps late")
            assertNull(iqCodeMatchingStep(secret, code, stepStart - 2 * stepSeconds), "two steps early")
        }
    }

    suite.test("iqCodeMatchingStep refuses a wrong code") {
        val case = cases.last()
        val code = case.str("code")
        val wrong = (if (code[0] == alphabet[0]) alphabet[1] else alphabet[0]) + code.substring(1)
        assertNull(iqCodeMatchingStep(secret, wrong, case.long("unix_seconds")))
    }

    suite.test("iqCodeNow is the code of the current step") {
        val before = System.currentTimeMillis() / 1000
        val now = iqCodeNow(secret)
        val after = System.currentTimeMillis() / 1000
        assertTrue(now.step in (before / stepSeconds).toULong()..(after / stepSeconds).toULong(), "step ${now.step}")
        assertEquals(iqCodeAt(secret, now.step.toLong() * stepSeconds).code, now.code)
        assertTrue(now.secondsLeft in 1u..stepSeconds.toUInt(), "secondsLeft ${now.secondsLeft}")
    }

    suite.test("a secret shorter than 16 bytes throws InvalidInput") {
        val short = secret.copyOf(15)
        assertFailsWith<KeywayException.InvalidInput> { iqCodeAt(short, 0) }
        assertFailsWith<KeywayException.InvalidInput> { iqCodeNow(short) }
        assertFailsWith<KeywayException.InvalidInput> { iqCodeMatchingStep(short, "ABCDE", 0) }
        assertFailsWith<KeywayException.InvalidInput> { iqCodeAt(ByteArray(0), 0) }
    }
}
