package pppoe

import "fmt"

// EtherTypes of the two PPPoE stages (RFC 2516 §4) and of an 802.1Q tag.
const (
	EtherTypeDiscovery uint16 = 0x8863
	EtherTypeSession   uint16 = 0x8864
	EtherTypeVLAN      uint16 = 0x8100
)

// Code is the CODE field of the PPPoE header (RFC 2516 §5).
type Code uint8

// Codes defined by RFC 2516 §5.1–5.5 and §6. PADM and PADN (RFC 4937) are
// named so that they print well; rosh neither sends nor acts on them.
const (
	CodeSession Code = 0x00 // session stage (RFC 2516 §6)
	CodePADO    Code = 0x07 // Active Discovery Offer (§5.2)
	CodePADI    Code = 0x09 // Active Discovery Initiation (§5.1)
	CodePADR    Code = 0x19 // Active Discovery Request (§5.3)
	CodePADS    Code = 0x65 // Active Discovery Session-confirmation (§5.4)
	CodePADT    Code = 0xa7 // Active Discovery Terminate (§5.5)
	CodePADM    Code = 0xd3 // PPPoE Active Discovery Message (RFC 4937)
	CodePADN    Code = 0xd4 // PPPoE Active Discovery Network (RFC 4937)
)

func (c Code) String() string {
	switch c {
	case CodeSession:
		return "Session"
	case CodePADO:
		return "PADO"
	case CodePADI:
		return "PADI"
	case CodePADR:
		return "PADR"
	case CodePADS:
		return "PADS"
	case CodePADT:
		return "PADT"
	case CodePADM:
		return "PADM"
	case CodePADN:
		return "PADN"
	}
	return fmt.Sprintf("Code(%#02x)", uint8(c))
}

// TagType is the TAG_TYPE of a discovery tag (RFC 2516 Appendix A, RFC 4638
// §4 for PPP-Max-Payload).
type TagType uint16

// Tag types rosh understands. Any other type is carried as an opaque Tag.
const (
	TagEndOfList        TagType = 0x0000
	TagServiceName      TagType = 0x0101
	TagACName           TagType = 0x0102
	TagHostUniq         TagType = 0x0103
	TagACCookie         TagType = 0x0104
	TagVendorSpecific   TagType = 0x0105
	TagRelaySessionID   TagType = 0x0110
	TagPPPMaxPayload    TagType = 0x0120
	TagServiceNameError TagType = 0x0201
	TagACSystemError    TagType = 0x0202
	TagGenericError     TagType = 0x0203
)

func (t TagType) String() string {
	switch t {
	case TagEndOfList:
		return "End-Of-List"
	case TagServiceName:
		return "Service-Name"
	case TagACName:
		return "AC-Name"
	case TagHostUniq:
		return "Host-Uniq"
	case TagACCookie:
		return "AC-Cookie"
	case TagVendorSpecific:
		return "Vendor-Specific"
	case TagRelaySessionID:
		return "Relay-Session-Id"
	case TagPPPMaxPayload:
		return "PPP-Max-Payload"
	case TagServiceNameError:
		return "Service-Name-Error"
	case TagACSystemError:
		return "AC-System-Error"
	case TagGenericError:
		return "Generic-Error"
	}
	return fmt.Sprintf("Tag(%#04x)", uint16(t))
}

// IsError reports whether t is one of the three error tags of RFC 2516
// Appendix A.
func (t TagType) IsError() bool {
	return t == TagServiceNameError || t == TagACSystemError || t == TagGenericError
}
