package main

import (
	"fmt"
	"net"
	"strconv"
)

// addrProblem checks a host:port flag as the flags are read, so a bad
// address is a usage error naming the flag rather than a failure to listen
// after the engines opened. The port must be a number from 0 to 65535 (0:
// any free port); the host may be empty (every interface). It returns ""
// when value is well formed.
func addrProblem(flag, value, example string) string {
	_, port, err := net.SplitHostPort(value)
	if err == nil && !validPort(port) {
		err = fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if err != nil {
		return fmt.Sprintf("%s %q: want host:port (e.g. %s): %v", flag, value, example, err)
	}
	return ""
}

// validPort reports whether s is a port number: 0 (any free port) to 65535.
func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}
