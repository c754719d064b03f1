package filter

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// FuzzParseRule feeds arbitrary rule text to the parser: it must return a
// rule list or a *SyntaxError, never panic, and a rule it accepts must
// print back to text it accepts again.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"- *.o", "+ */", ":n- .f", "dir-merge,e .rules", "clear", "!", "-C",
		"P,s x", "H!/ [a-z]**", "merge", "x foo", "-_a b", "exclude,p foo/", "include ***"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, old bool) {
		l := New(Options{FS: emptyFS{}})
		var err error
		if old {
			err = l.AddExclude(s)
		} else {
			err = l.AddFilter(s)
		}
		var se *SyntaxError
		var fe *Error
		if err != nil && !errors.As(err, &se) && !errors.As(err, &fe) {
			t.Fatalf("%q: unexpected error type %T: %v", s, err, err)
		}
		for _, r := range l.Rules() {
			r.matches("a/b/c", true, false, "")
			r.matches("c", false, false, "/x")
			if r.Flags&(CVSIgnore|MergeFile) != 0 {
				continue
			}
			if err := New(Options{FS: emptyFS{}}).AddFilter(r.String()); err != nil {
				t.Errorf("%q: rule %q does not parse back: %v", s, r.String(), err)
			}
		}
	})
}

// emptyFS has no files.
type emptyFS struct{}

func (emptyFS) ReadFile(string) ([]byte, error) { return nil, errors.New("no such file") }

// FuzzWildmatch checks Wildmatch against a regexp translation for
// patterns made of literals, '?', '*' and "**" only (no classes or
// escapes), and that any pattern at all never panics.
func FuzzWildmatch(f *testing.F) {
	for _, s := range [][2]string{{"*.c", "a.c"}, {"**/x", "a/b/x"}, {"a?c", "a/c"}, {"[!a-c]*", "d"},
		{"[[:alpha:]]", "q"}, {"\\*", "*"}, {"a/***", "a/"}, {"[]]", "]"}, {"[a-]", "-"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		got := Wildmatch(pattern, text)
		for i := -2; i <= 3; i++ {
			wildmatchWhere(pattern, text, i)
		}
		if strings.ContainsAny(pattern, "[\\\x00") || strings.ContainsRune(text, 0) {
			return
		}
		var re strings.Builder
		re.WriteString(`^`)
		for i := 0; i < len(pattern); i++ {
			switch c := pattern[i]; c {
			case '?':
				re.WriteString(`[^/]`)
			case '*':
				if i+1 < len(pattern) && pattern[i+1] == '*' {
					for i+1 < len(pattern) && pattern[i+1] == '*' {
						i++
					}
					re.WriteString(`.*`)
				} else {
					re.WriteString(`[^/]*`)
				}
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile("(?s)" + re.String()).MatchString(text)
		if !isValidUTF8(pattern) || !isValidUTF8(text) {
			return // regexp works on runes, wildmatch on bytes
		}
		if got != want {
			t.Errorf("Wildmatch(%q, %q) = %v, regexp says %v", pattern, text, got, want)
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestWildmatch covers rsync's wildcard rules case by case.
func TestWildmatch(t *testing.T) {
	for _, c := range []struct {
		pattern, text string
		want          bool
	}{
		{"foo", "foo", true},
		{"*", "foo/bar", false},
		{"**", "foo/bar", true},
		{"f?o", "foo", true},
		{"f?o", "f/o", false},
		{"*/bar", "foo/bar", true},
		{"**/bar", "a/b/bar", true},
		{"a/**/b", "a/b", false},
		{"a/**/b", "a/x/y/b", true},
		{"[a-c]x", "bx", true},
		{"[!a-c]x", "bx", false},
		{"[^a-c]x", "dx", true},
		{"[[:digit:]]", "7", true},
		{"[[:upper:][:digit:]]", "Q", true},
		{"[[:bogus:]]", "a", false},
		{"[[:alpha:]", "a", false},
		{"[]a]", "]", true},
		{"[a-]", "-", true},
		{"[\\]]", "]", true},
		{"\\*", "*", true},
		{"\\*", "x", false},
		{"a\\", "a", false},
		{"[/]", "/", false},
		{"*.c", ".c", true},
		{"foo/*", "foo/bar/baz", false},
		{"foo/**", "foo/bar/baz", true},
	} {
		if got := Wildmatch(c.pattern, c.text); got != c.want {
			t.Errorf("Wildmatch(%q, %q) = %v, want %v", c.pattern, c.text, got, c.want)
		}
	}
}
