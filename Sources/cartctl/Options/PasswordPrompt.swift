#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reads a password: one line from stdin for scripts (`--password-stdin`), otherwise from
/// the terminal with echo off, so it never shows on screen or in scrollback.
enum PasswordPrompt {
    static let passwordBytesMax = 1_024

    static func read(prompt: String, fromStdin: Bool) throws -> String {
        if fromStdin || isatty(STDIN_FILENO) == 0 {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CommandFailure("no password on stdin")
            }
            return line
        }
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw CommandFailure("empty password") }
        guard line.utf8.count <= passwordBytesMax else { throw CommandFailure("password longer than \(passwordBytesMax) bytes") }
        return line
    }
}
