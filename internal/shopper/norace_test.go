//go:build !race

package shopper

// raceDetector: the tests run under the race detector (see
// TestSessionsAgainstRealShop).
const raceDetector = false
