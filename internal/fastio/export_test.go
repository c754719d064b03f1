package fastio

// SetAdvice makes mappings for access a use the madvise hint adv, until
// the returned function restores the default (for the benchmarks that
// chose the defaults).
func SetAdvice(a Access, adv int) (restore func()) {
	old := advice[a]
	advice[a] = adv
	return func() { advice[a] = old }
}
