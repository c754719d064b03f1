// Package interop holds the end-to-end tests that run upstream rsync against
// gorsync in every role and compare the resulting trees.
package interop
