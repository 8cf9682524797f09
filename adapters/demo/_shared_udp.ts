/**
 * A UDP socket bound with SO_REUSEADDR, for the addresses the AR's proxy and the MN
 * share in the embedded demo. Linux delivers a unicast datagram to the socket bound
 * last among those sharing an address and port, so the MN binding its nCoA takes the
 * traffic over from the AR's proxy socket at once, before the proxy closes: the
 * user-space counterpart of "assign the address, then announce it" (RFC 6252
 * Appendix B), without a window in which datagrams hit a closed port.
 *
 * @module
 */
import {
  type DatagramEndpoint,
  type DatagramTransport,
  UdpDatagramTransport,
} from "../mobility/datagram_transport.ts";

/** Binds an IPv4 UDP socket with SO_REUSEADDR (see the module documentation). */
export function _bindShared(local: DatagramEndpoint): Promise<DatagramTransport> {
  return UdpDatagramTransport.bind(local, { shared: true });
}
