// Reading a digital key against protocol/vectors/credential.json.

import com.keyway.core.KeywayException
import com.keyway.core.inspectCredential
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith

fun credentialTests(suite: TestSuite) {
    val vector = loadVector("credential.json")
    val bytes = hexToBytes(vector.str("credential_hex"))
    val fields = vector.obj("fields")

    suite.test("inspectCredential matches every field of the vector") {
        val info = inspectCredential(bytes)
        assertEquals(fields.long("credential_id").toULong(), info.credentialId, "credentialId")
        assertEquals(fields.long("site_id").toUInt(), info.siteId, "siteId")
        assertEquals(fields.long("user_id").toUInt(), info.userId, "userId")
        assertEquals(fields.list("lock_ids").map { (it as Long).toUInt() }, info.lockIds, "lockIds")
        assertEquals(fields.long("not_before"), info.notBefore, "notBefore")
        assertEquals(fields.long("not_after"), info.notAfter, "notAfter")
        assertEquals(fields.long("revocation_epoch").toUInt(), info.revocationEpoch, "revocationEpoch")
        assertEquals(fields.bool("master_key"), info.masterKey, "masterKey")
        assertEquals(fields.bool("privacy_override"), info.privacyOverride, "privacyOverride")
        assertEquals(fields.bool("office_mode"), info.officeMode, "officeMode")
        val schedule = fields.objects("schedule")
        assertEquals(schedule.size, info.schedule.size, "schedule size")
        for ((want, got) in schedule.zip(info.schedule)) {
            assertEquals(want.long("days"), got.days.toLong(), "schedule days")
            assertEquals(want.long("start_minute"), got.startMinute.toLong(), "schedule startMinute")
            assertEquals(want.long("end_minute"), got.endMinute.toLong(), "schedule endMinute")
        }
        assertEquals(vector.long("size_bytes").toUInt(), info.sizeBytes, "sizeBytes")
        assertEquals(bytes.size.toUInt(), info.sizeBytes, "sizeBytes vs the bytes")
    }

    suite.test("garbage credential bytes throw InvalidInput") {
        assertFailsWith<KeywayException.InvalidInput> { inspectCredential(ByteArray(0)) }
        assertFailsWith<KeywayException.InvalidInput> { inspectCredential(ByteArray(64) { 0x5A }) }
        assertFailsWith<KeywayException.InvalidInput> { inspectCredential(bytes.copyOf(bytes.size - 1)) }
        assertFailsWith<KeywayException.InvalidInput> { inspectCredential(bytes + byteArrayOf(0)) }
    }
}
