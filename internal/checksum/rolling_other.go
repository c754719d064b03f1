//go:build !amd64

package checksum

// haveVectorSums is false: there is no vector loop for this architecture.
var haveVectorSums = false

const vectorMin = 0

func vectorSums(p *byte, n int) (t, pre, w uint32) {
	panic("checksum: no vector sums on this architecture")
}
