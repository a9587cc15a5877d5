package io.crowdbackup.engine.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.jspecify.annotations.Nullable;

/**
 * Who a peer is at a venue, for its share of a holder's storage and its bandwidth: the key the quota
 * ledger and the shapers count under. See {@code docs/decisions/0005-peer-identity.md}: the holder keys
 * on what it observes (the network address), never on the label a peer gives itself, and the global quota
 * bounds what any number of identities can take together.
 */
public interface PeerIdentity {
  /** The counting key for a request from {@code address} whose offer named itself {@code declaredLabel}. */
  String of(InetAddress address, @Nullable String declaredLabel);

  /**
   * The default: an IPv4 address as itself; an IPv6 address by its /64 prefix, since one phone takes many
   * addresses in its /64 (privacy extensions) and they must count as one peer.
   */
  PeerIdentity BY_ADDRESS = (address, label) -> {
    byte[] a = address.getAddress();
    if (address instanceof Inet4Address) {
      return "ip4:" + address.getHostAddress();
    }
    if (address instanceof Inet6Address) {
      StringBuilder sb = new StringBuilder("ip6:");
      for (int i = 0; i < 8; i += 2) {
        sb.append(Integer.toHexString((a[i] & 0xff) << 8 | (a[i + 1] & 0xff))).append(':');
      }
      return sb.append(":/64").toString();
    }
    return "addr:" + address.getHostAddress();
  };

  /**
   * The label the peer gave (or its address when it gave none). Only for tests and closed set-ups where
   * every peer is known: anyone can claim any label, so on a venue network it gives no share protection.
   */
  PeerIdentity BY_DECLARED_LABEL = (address, label) -> label != null ? label
      : BY_ADDRESS.of(address, null);
}
