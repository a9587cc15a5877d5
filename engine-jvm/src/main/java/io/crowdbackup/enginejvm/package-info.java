/**
 * Server and desktop implementations of engine SPIs that Android cannot run (Chronicle Map, Caffeine).
 */
package io.crowdbackup.enginejvm;
