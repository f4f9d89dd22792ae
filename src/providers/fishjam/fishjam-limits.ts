/** Reason of the refusal when a livestream token is asked for in a room of another type. */
export const NOT_LIVESTREAM = 'not_livestream';
