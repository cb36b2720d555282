/**
 * Version of every conversation's stored state. Bump it whenever a builder changes shape:
 * conversations replay from their stored log, and a log of an older shape would replay wrongly,
 * so stored states of another version are discarded (the person starts that flow again).
 */
export const FLOW_VERSION = 3;
