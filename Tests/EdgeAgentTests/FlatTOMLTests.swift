import Testing

@testable import GoedgeConfiguration

/// goedge's reader for the TOML its configuration uses.
@Suite struct FlatTOMLTests {
    @Test func readsStringsIntegersBooleansAndArraysWithComments() throws {
        let text = """
            # goedge.toml
            upstream = "https://a.example|https://b.example"  # after a value
            cache-dir = '/var/cache/goedge'
            prefetch-concurrency = 1_000
            read-ahead = false
            control-hosts = [
              "127.0.0.1",  # loopback
              "::1",
            ]
            escaped = "tab\\tquote\\" \\u00e9"
            """
        let (entries, sections) = try FlatTOML.parse(text)
        #expect(sections.isEmpty)
        #expect(entries.map(\.key) == ["upstream", "cache-dir", "prefetch-concurrency", "read-ahead", "control-hosts", "escaped"])
        #expect(entries[0].value == .string("https://a.example|https://b.example") && entries[0].line == 2)
        #expect(entries[1].value == .string("/var/cache/goedge"))
        #expect(entries[2].value == .integer(1000))
        #expect(entries[3].value == .boolean(false))
        #expect(entries[4].value == .array([.string("127.0.0.1"), .string("::1")]) && entries[4].line == 6)
        #expect(entries[5].value == .string("tab\tquote\" é"))
    }

    @Test func readsSectionsAndTheirKeysApartFromTheTopLevel() throws {
        let (entries, sections) = try FlatTOML.parse("listen = \"a:1\"\n[serve]\nlisten = \"b:2\"\n[[more]]\n")
        #expect(entries.map(\.key) == ["listen"])
        #expect(sections == [
            .init(name: "serve", line: 2, entries: [.init(key: "listen", value: .string("b:2"), line: 3)]),
            .init(name: "more", line: 4, isArrayElement: true),
        ])
    }

    @Test func valuesGoedgeHasNoUseForAreKeptAsOther() throws {
        let (entries, _) = try FlatTOML.parse("a = 1.5\nb = 1979-05-27\nc = { x = 1 }\nd = 99999999999999999999\n")
        #expect(entries.map(\.value) == [.other("1.5"), .other("1979-05-27"), .other("an inline table"), .other("99999999999999999999")])
    }

    @Test(arguments: [
        ("key", "1:4: expected = after the key"),
        ("a = \"open", "1:10: unterminated string"),
        ("a = 1 2", "1:7: expected the end of the line"),
        ("a = 1\na = 2", "2:1: a is set twice"),
        ("a.b = 1", "1:2: dotted keys are not used; write each setting at the top of the file"),
        ("\"a\" = 1", "1:1: write keys without quotes"),
        ("[serve", "1:7: a section header needs its ]"),
        ("[)erve]\nx = 1", ""),
        ("a = \"\\q\"", "1:8: invalid escape \\q"),
        ("a = [[[[[[[[[[1]]]]]]]]]]", "1:13: arrays nested too deeply"),
        ("a = \"\"\"x\"\"\"", "1:5: multi-line strings are not used; write the value on one line"),
    ])
    func reportsWhereASyntaxErrorIs(text: String, expected: String) {
        do {
            _ = try FlatTOML.parse(text)
            #expect(expected.isEmpty, "\(text) parsed")
        } catch {
            #expect(error.description == expected, "\(text)")
        }
    }
}
