package rsynctest

import (
	"fmt"
	"testing"
)

// fakeTB records what a helper reports instead of failing the real test.
// Fatal and Skip unwind with a sentinel panic that capture recovers.
type fakeTB struct {
	testing.TB
	errors  []string
	fatal   string
	skipped string
}

type fakeStop struct{}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Error(args ...any) { f.errors = append(f.errors, fmt.Sprint(args...)) }
func (f *fakeTB) Errorf(format string, a ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, a...))
}
func (f *fakeTB) Fatalf(format string, a ...any) {
	f.fatal = fmt.Sprintf(format, a...)
	panic(fakeStop{})
}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(fakeStop{})
}

// capture runs fn against a fakeTB wrapping t.
func capture(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fakeStop); !ok {
					panic(r)
				}
			}
		}()
		fn(f)
	}()
	return f
}
