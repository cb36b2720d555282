/**
 * Conversation ids of the scholarship feature (issue 10), in one place so each part can enter
 * another's flow without importing it: `ctx.conversation.enter(NOMINATE_FLOW, { roundId })`.
 */
/** Officers: a new round (no argument) and editing one field of a round ({ roundId, field }). */
export const ROUND_NEW_FLOW = "round-new";
export const ROUND_EDIT_FLOW = "round-edit";
/** Officers: a later deadline for a round ({ roundId }). */
export const ROUND_EXTEND_FLOW = "round-extend";
/** Residents: "Am I eligible?" for a round ({ roundId }). */
export const ELIGIBILITY_FLOW = "sch-eligible";
/** Members, officers, parents: nominate a student to a round ({ roundId }). */
export const NOMINATE_FLOW = "sch-nominate";
