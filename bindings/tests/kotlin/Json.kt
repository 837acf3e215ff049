// A small, strict JSON reader for the test vectors: objects become Map<String, Any?>, arrays
// List<Any?>, integers Long, other numbers Double, plus String, Boolean and null.

object Json {
    fun parse(text: String): Any? {
        val reader = Reader(text)
        val value = reader.value()
        reader.skipWhitespace()
        if (!reader.atEnd()) reader.fail("trailing characters")
        return value
    }

    private class Reader(val s: String) {
        var i = 0

        fun atEnd() = i >= s.length
        fun fail(message: String): Nothing = throw IllegalArgumentException("JSON: $message at offset $i")

        fun skipWhitespace() {
            while (i < s.length && s[i].isWhitespace()) i++
        }

        fun expect(c: Char) {
            skipWhitespace()
            if (atEnd() || s[i] != c) fail("expected '$c'")
            i++
        }

        fun value(): Any? {
            skipWhitespace()
            if (atEnd()) fail("unexpected end")
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) number() else fail("unexpected '$c'")
            }
        }

        fun literal(word: String, result: Any?): Any? {
            if (!s.startsWith(word, i)) fail("expected $word")
            i += word.length
            return result
        }

        fun obj(): Map<String, Any?> {
            expect('{')
            val map = LinkedHashMap<String, Any?>()
            skipWhitespace()
            if (s.getOrNull(i) == '}') { i++; return map }
            while (true) {
                skipWhitespace()
                val key = string()
                expect(':')
                map[key] = value()
                skipWhitespace()
                when (s.getOrNull(i)) {
                    ',' -> i++
                    '}' -> { i++; return map }
                    else -> fail("expected ',' or '}'")
                }
            }
        }

        fun array(): List<Any?> {
            expect('[')
            val list = ArrayList<Any?>()
            skipWhitespace()
            if (s.getOrNull(i) == ']') { i++; return list }
            while (true) {
                list += value()
                skipWhitespace()
                when (s.getOrNull(i)) {
                    ',' -> i++
                    ']' -> { i++; return list }
                    else -> fail("expected ',' or ']'")
                }
            }
        }

        fun string(): String {
            if (s.getOrNull(i) != '"') fail("expected a string")
            i++
            val out = StringBuilder()
            while (true) {
                if (atEnd()) fail("unterminated string")
                when (val c = s[i++]) {
                    '"' -> return out.toString()
                    '\\' -> {
                        if (atEnd()) fail("unterminated escape")
                        when (val e = s[i++]) {
                            '"', '\\', '/' -> out.append(e)
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000C')
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'u' -> {
                                if (i + 4 > s.length) fail("short \\u escape")
                                out.append(s.substring(i, i + 4).toInt(16).toChar())
                                i += 4
                            }
                            else -> fail("bad escape '\\$e'")
                        }
                    }
                    else -> out.append(c)
                }
            }
        }

        fun number(): Any {
            val start = i
            if (s[i] == '-') i++
            while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
            val text = s.substring(start, i)
            return text.toLongOrNull() ?: text.toDoubleOrNull() ?: fail("bad number '$text'")
        }
    }
}
