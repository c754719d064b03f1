// Package delta implements rsync's delta transfer: the generator's block
// signatures of a basis file, the sender's block search that turns a source
// file into literal data and block matches, the token stream that carries
// them, and the receiver's reconstruction of the file from basis and tokens.
package delta
