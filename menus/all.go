package menus

import "strconv"

// All is the explicit list of every menu of the tree, in the order export
// writes them: a menu comes after the menus its references point to, so
// that an exported script imports into an empty configuration.
func All() []*Menu {
	return []*Menu{
		systemIdentity(),
		systemResource(),
		user(),
		ipService(),
		systemLoggingAction(),
		systemLogging(),
		interfaceMenu(),
		ipDNS(),
		ipPool(),
		ipPoolUsed(),
		radius(),
		radiusIncoming(),
		pppAAA(),
		pppProfile(),
		interfacePPPoEClient(),
		interfacePPPoEServerServer(),
		interfacePPPoEServer(),
		pppSecret(),
		pppActive(),
		queueSimple(),
		logMenu(),
		toolSniffer(),
	}
}

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
