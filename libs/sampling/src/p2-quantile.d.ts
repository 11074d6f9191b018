/**
 * The P² algorithm (Jain & Chlamtac, "The P² algorithm for dynamic calculation of quantiles
 * and histograms without storing observations", CACM 28(10), 1985): a running estimate of
 * one quantile in constant memory, five markers adjusted by piecewise-parabolic prediction.
 * Its state is plain data, so it can be stored and resumed.
 */
export interface P2State {
    p: number;
    count: number;
    /** marker heights */
    q: number[];
    /** marker positions (1-based) */
    n: number[];
    /** desired marker positions */
    np: number[];
}
export declare function createP2(p: number): P2State;
/** Adds one observation; returns the same state, updated. */
export declare function addP2(state: P2State, x: number): P2State;
/** The current estimate; with fewer than five observations, the exact quantile of those seen. */
export declare function valueP2(state: P2State): number | undefined;
