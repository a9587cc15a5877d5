/**
 * The code a new front-end team copies on day one. A named module that requires only the engine, so the
 * compiler refuses any reach past the engine's exported surface.
 */
module io.crowdbackup.examples {
  requires io.crowdbackup.engine;
}
