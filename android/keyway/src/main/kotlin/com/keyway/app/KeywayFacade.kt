// The Android app's one door into the Rust core. Screens call this facade, never the generated
// bindings directly, so a change in the generated API is fixed in one place. No business logic
// lives here: every rule is in keyway-core; this only adapts types and errors for the UI.
//
// `cargo xtask test` compiles this file together with the generated Kotlin (kotlinc on the JVM),
// so it always matches the bindings, even though the Android app itself is not built here.

package com.keyway.app

import com.keyway.protocol.IqCode
import com.keyway.core.ChangeObserver
import com.keyway.core.CredentialInfo
import com.keyway.core.Keyway
import com.keyway.core.KeywayException
import com.keyway.core.LogLevel
import com.keyway.core.LogSink
import com.keyway.core.initLogging
import com.keyway.core.inspectCredential
import com.keyway.core.iqCodeNow
import com.keyway.core.keywayCoreVersion

/** What the screen offers the user after an error; the core's error variant decides it. */
enum class UiAction {
    FIX_INPUT, NONE, MOVE_CLOSER_AND_RETRY, RETRY, WAIT_AND_RETRY, LOG_IN, REGISTER_DEVICE,
    SET_PIN, ENTER_PIN_AGAIN, RESET_PIN, OPEN_OVER_BLUETOOTH, DISMISS, REPORT,
}

/**
 * What a screen shows when the core says no: the core's message, the action to offer and, for
 * [UiAction.WAIT_AND_RETRY], the seconds of the countdown.
 */
data class UiError(val message: String, val action: UiAction, val retryAfterSeconds: ULong? = null)

/** A core result as screens consume it. */
sealed interface CoreResult<out T> {
    data class Ok<T>(val value: T) : CoreResult<T>
    data class Failed(val error: UiError) : CoreResult<Nothing>
}

/** Thin, logic-free access to keyway-core for the app's screens. */
object KeywayFacade {
    /** The core's version, for the about screen and bug reports. */
    val coreVersion: String
        get() = keywayCoreVersion()

    /**
     * Sends the core's logs to [sink] (Logcat, a file for the support screen) up to [maxLevel].
     * Call once at app start; a later call replaces the sink and the level. True when the
     * records reach [sink]. The records never hold a secret, at any level.
     */
    fun startLogging(sink: LogSink, maxLevel: LogLevel = LogLevel.INFO): Boolean =
        initLogging(sink, maxLevel)

    /**
     * Opens the live channel: access changes reach [observer] within a second (the wallet is
     * already synced when `keysChanged` comes). Call from the foreground (`onStart`); returns
     * at once.
     */
    fun startLive(keyway: Keyway, observer: ChangeObserver): CoreResult<Unit> =
        call { keyway.live().start(observer) }

    /** Closes the live channel: call when the app leaves the foreground (`onStop`). */
    fun stopLive(keyway: Keyway) = keyway.live().stop()

    /** The IQ code to show now for this person-and-IQ secret. */
    fun currentIqCode(secret: ByteArray): CoreResult<IqCode> = call { iqCodeNow(secret) }

    /** A digital key's fields, for the wallet screen. */
    fun describeKey(credential: ByteArray): CoreResult<CredentialInfo> =
        call { inspectCredential(credential) }

    private inline fun <T> call(block: () -> T): CoreResult<T> =
        try {
            CoreResult.Ok(block())
        } catch (e: KeywayException) {
            CoreResult.Failed(e.toUiError())
        }

    /**
     * Maps the core's error to what the UI offers. Deliberately no `else` branch: a new
     * variant in the core fails this compile (in `cargo xtask test`) until the app handles it.
     */
    private fun KeywayException.toUiError(): UiError = when (this) {
        is KeywayException.InvalidInput -> UiError(detail, UiAction.FIX_INPUT)
        is KeywayException.NotAllowed -> UiError(detail, UiAction.NONE)
        is KeywayException.OutOfRange -> UiError(detail, UiAction.MOVE_CLOSER_AND_RETRY)
        is KeywayException.Retry -> UiError(detail, UiAction.RETRY)
        is KeywayException.RetryAfter -> UiError(detail, UiAction.WAIT_AND_RETRY, retryAfterSeconds)
        is KeywayException.PinNotSet -> UiError(detail, UiAction.SET_PIN)
        is KeywayException.WrongPin -> UiError(detail, UiAction.ENTER_PIN_AGAIN)
        is KeywayException.PinLocked -> UiError(detail, UiAction.RESET_PIN)
        is KeywayException.LockUnreachable -> UiError(detail, UiAction.OPEN_OVER_BLUETOOTH)
        is KeywayException.Cancelled -> UiError(detail, UiAction.DISMISS)
        is KeywayException.ReLogin -> UiError(detail, UiAction.LOG_IN)
        is KeywayException.RegisterDevice -> UiError(detail, UiAction.REGISTER_DEVICE)
        is KeywayException.Internal -> UiError(detail, UiAction.REPORT)
    }
}
