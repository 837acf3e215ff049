// A whole unlock through the bindings: site authority, simulated BLE locks, this phone's key.

import com.keyway.protocol.RefusalReason
import com.keyway.core.KeywayException
import com.keyway.core.SimulatedSite
import com.keyway.core.inspectCredential
import kotlinx.coroutines.runBlocking
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun simulatedSiteTests(suite: TestSuite) {
    suite.test("an issued key names this site's locks and is valid now") {
        SimulatedSite(listOf(1u, 2u)).use { site ->
            val before = System.currentTimeMillis() / 1000
            val info = inspectCredential(site.issueKey(listOf(1u), 3600))
            assertEquals(listOf(1u), info.lockIds)
            assertTrue(info.notBefore <= before, "notBefore ${info.notBefore} > now $before")
            assertTrue(info.notAfter in (before + 3600)..(before + 3660), "notAfter ${info.notAfter}")
            assertFalse(info.masterKey)
        }
    }

    suite.test("a key for lock 1 opens lock 1 in two writes and is logged") {
        SimulatedSite(listOf(1u, 2u)).use { site ->
            val key = site.issueKey(listOf(1u), 3600)
            val info = inspectCredential(key)
            val eventsBefore = site.lockEvents(1u).size
            val report = runBlocking { site.unlock(1u, key) }
            assertEquals(1u, report.lockId)
            assertTrue(report.granted, "refused: ${report.refusal} ${report.refusalMessage}")
            assertNull(report.refusal)
            assertNull(report.refusalMessage)
            assertEquals(2u, report.writes, "ATT writes at MTU 185")
            assertTrue(report.bytesWritten > 0u && report.bytesNotified > 0u, "traffic $report")
            assertTrue(report.connectMs >= 0.0 && report.handshakeMs >= 0.0 && report.actuateMs > 0.0, "timings $report")
            val events = site.lockEvents(1u)
            assertEquals(eventsBefore + 1, events.size, "one event per attempt")
            val event = events.last()
            assertTrue(event.granted)
            assertNull(event.refusal)
            assertEquals(info.credentialId, event.credentialId)
            assertEquals(info.userId, event.userId)
        }
    }

    suite.test("a key for lock 1 is refused NOT_IN_SCOPE on lock 2") {
        SimulatedSite(listOf(1u, 2u)).use { site ->
            val key = site.issueKey(listOf(1u), 3600)
            val eventsBefore = site.lockEvents(2u).size
            val report = runBlocking { site.unlock(2u, key) }
            assertFalse(report.granted)
            assertEquals(RefusalReason.NOT_IN_SCOPE, report.refusal)
            assertNotNull(report.refusalMessage)
            val events = site.lockEvents(2u)
            assertEquals(eventsBefore + 1, events.size, "one event per attempt")
            assertFalse(events.last().granted)
            assertEquals(RefusalReason.NOT_IN_SCOPE, events.last().refusal)
        }
    }

    suite.test("past the key's validity the lock refuses EXPIRED") {
        SimulatedSite(listOf(1u)).use { site ->
            val key = site.issueKey(listOf(1u), 600)
            val notAfter = inspectCredential(key).notAfter
            assertTrue(runBlocking { site.unlock(1u, key) }.granted, "granted while valid")
            site.setLockClock(1u, notAfter + 60)
            val report = runBlocking { site.unlock(1u, key) }
            assertFalse(report.granted)
            assertEquals(RefusalReason.EXPIRED, report.refusal)
            val events = site.lockEvents(1u)
            assertEquals(RefusalReason.EXPIRED, events.last().refusal)
            assertTrue(events.last().time in (notAfter + 60)..(notAfter + 70), "event time is the lock's clock: ${events.last().time}")
        }
    }

    suite.test("lockEvents grows by one per attempt, with increasing seq") {
        SimulatedSite(listOf(1u, 2u)).use { site ->
            val key = site.issueKey(listOf(1u), 3600)
            val start = site.lockEvents(1u).size
            val outcomes = mutableListOf<Boolean>()
            for (attempt in 1..3) {
                outcomes += runBlocking { site.unlock(1u, key) }.granted
                assertEquals(start + attempt, site.lockEvents(1u).size, "after attempt $attempt")
            }
            assertTrue(outcomes.all { it }, "every attempt granted: $outcomes")
            val seqs = site.lockEvents(1u).map { it.seq }
            assertEquals(seqs.sorted(), seqs)
            assertEquals(seqs.size, seqs.toSet().size, "seq is unique")
        }
    }

    suite.test("an unknown lock id throws KeywayException") {
        SimulatedSite(listOf(1u)).use { site ->
            assertFailsWith<KeywayException> { site.lockEvents(99u) }
            assertFailsWith<KeywayException> { site.setLockClock(99u, 0) }
        }
    }
}
