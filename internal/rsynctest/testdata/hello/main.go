// Command hello is a stand-in main package for testing binary builds.
package main

import "fmt"

func main() { fmt.Println("hello from rsynctest") }
