package main

import (
	"fmt"
	"net"
)

// addrProblem checks a host:port flag as the flags are read, so a bad
// address is a usage error naming the flag rather than a failure to listen
// after the engines opened. The port is what net.Listen takes: a number
// from 0 to 65535 (0: any free port) or a service name such as http; the
// host may be empty (every interface). It returns "" when value is well
// formed.
func addrProblem(flag, value, example string) string {
	_, port, err := net.SplitHostPort(value)
	if err == nil {
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil {
		return fmt.Sprintf("%s %q: want host:port (e.g. %s): %v", flag, value, example, err)
	}
	return ""
}
