/**
 * The wire protocol's core (docs/protocol.md), free of any HTTP library so that an Android app binds it to
 * whatever server or stream it embeds: strict bounded codecs for the messages ({@link
 * io.crowdbackup.engine.protocol.Json}, {@link io.crowdbackup.engine.protocol.Tus}, {@link
 * io.crowdbackup.engine.protocol.Problem}, {@link io.crowdbackup.engine.protocol.OfferMessage}, {@link
 * io.crowdbackup.engine.protocol.DeliveryQuery}), and the request handling of a holder ({@link
 * io.crowdbackup.engine.protocol.HolderProtocol}, over a custodian) and of a destination ({@link
 * io.crowdbackup.engine.protocol.DestinationProtocol}, over a {@link
 * io.crowdbackup.engine.protocol.DeliverySink}). Every parser takes untrusted input and answers with a
 * {@link io.crowdbackup.engine.protocol.ProtocolException} naming what it read, never a crash or an
 * allocation sized by the peer. The {@code server} module binds these to Jetty and the JDK HttpClient.
 */
package io.crowdbackup.engine.protocol;
