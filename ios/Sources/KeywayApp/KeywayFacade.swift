// The iOS app's one door into the Rust core. Views call this facade, never the generated
// bindings directly, so a change in the generated API is fixed in one place. No business logic
// lives here: every rule is in keyway-core; this only adapts types and errors for the UI.

import Foundation
import KeywayCore

/// What the view offers the user after an error; the core's error variant decides it.
public enum UiAction: Equatable {
    case fixInput, none, moveCloserAndRetry, retry, logIn, registerDevice, report
    /// Show a countdown of this many seconds, then offer to try again.
    case waitAndRetry(seconds: UInt64)
    case setPin, enterPinAgain, resetPin, openOverBluetooth, dismiss
}

/// What a view shows when the core says no: the core's message and the action to offer.
public struct UiError: Error, Equatable {
    public let message: String
    public let action: UiAction
}

/// Thin, logic-free access to keyway-core for the app's views.
public enum KeywayFacade {
    /// The core's version, for the about screen and bug reports.
    public static var coreVersion: String { keywayCoreVersion() }

    /// Sends the core's logs to `sink` (`os_log`, a file for the support screen) up to
    /// `maxLevel`. Call once at app start; a later call replaces the sink and the level.
    /// True when the records reach `sink`. The records never hold a secret, at any level.
    @discardableResult
    public static func startLogging(_ sink: LogSink, maxLevel: LogLevel = .info) -> Bool {
        initLogging(sink: sink, maxLevel: maxLevel)
    }

    /// The IQ code to show now for this person-and-IQ secret.
    public static func currentIqCode(secret: Data) -> Result<IqCode, UiError> {
        call { try iqCodeNow(secret: secret) }
    }

    /// A digital key's fields, for the wallet view.
    public static func describeKey(_ credential: Data) -> Result<CredentialInfo, UiError> {
        call { try inspectCredential(bytes: credential) }
    }

    private static func call<T>(_ body: () throws -> T) -> Result<T, UiError> {
        do {
            return .success(try body())
        } catch let error as KeywayError {
            return .failure(uiError(error))
        } catch {
            return .failure(UiError(message: "\(error)", action: .report))
        }
    }

    /// Maps the core's error to what the UI offers. Deliberately no `default`: a new variant in
    /// the core fails the app's build until it is handled.
    private static func uiError(_ error: KeywayError) -> UiError {
        switch error {
        case let .InvalidInput(detail): return UiError(message: detail, action: .fixInput)
        case let .NotAllowed(detail): return UiError(message: detail, action: .none)
        case let .OutOfRange(detail): return UiError(message: detail, action: .moveCloserAndRetry)
        case let .Retry(detail): return UiError(message: detail, action: .retry)
        case let .RetryAfter(detail, seconds):
            return UiError(message: detail, action: .waitAndRetry(seconds: seconds))
        case let .PinNotSet(detail): return UiError(message: detail, action: .setPin)
        case let .WrongPin(detail): return UiError(message: detail, action: .enterPinAgain)
        case let .PinLocked(detail): return UiError(message: detail, action: .resetPin)
        case let .LockUnreachable(detail): return UiError(message: detail, action: .openOverBluetooth)
        case let .Cancelled(detail): return UiError(message: detail, action: .dismiss)
        case let .ReLogin(detail): return UiError(message: detail, action: .logIn)
        case let .RegisterDevice(detail): return UiError(message: detail, action: .registerDevice)
        case let .Internal(detail): return UiError(message: detail, action: .report)
        }
    }
}
