package flist

import "unsafe"

// stringData returns the address of a string's bytes, to check sharing.
func stringData(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }
