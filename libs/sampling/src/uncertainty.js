"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.UNCERTAINTY_STRATEGIES = void 0;
exports.leastConfidence = leastConfidence;
exports.margin = margin;
exports.entropy = entropy;
exports.uncertainty = uncertainty;
exports.UNCERTAINTY_STRATEGIES = ['least_confidence', 'margin', 'entropy'];
function probabilities(scores) {
    const values = Array.isArray(scores) ? [...scores] : Object.values(scores);
    return values.map((p) => (Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0));
}
/** 1 − max p: 0 for a certain model, 1 − 1/K at the uniform distribution. */
function leastConfidence(scores) {
    const p = probabilities(scores);
    if (p.length === 0)
        return 0;
    return 1 - Math.max(...p);
}
/** 1 − (p₁ − p₂) over the two most likely classes: 1 when they tie. */
function margin(scores) {
    let first = 0;
    let second = 0;
    for (const p of probabilities(scores)) {
        if (p > first) {
            second = first;
            first = p;
        }
        else if (p > second) {
            second = p;
        }
    }
    return 1 - (first - second);
}
/** Shannon entropy normalised by log K, in [0, 1]; p = 0 terms contribute 0 (the limit of p log p). */
function entropy(scores) {
    const p = probabilities(scores);
    if (p.length < 2)
        return 0;
    let h = 0;
    for (const q of p)
        if (q > 0)
            h -= q * Math.log(q);
    return Math.min(1, Math.max(0, h / Math.log(p.length)));
}
function uncertainty(strategy, scores) {
    switch (strategy) {
        case 'least_confidence':
            return leastConfidence(scores);
        case 'margin':
            return margin(scores);
        case 'entropy':
            return entropy(scores);
    }
}
//# sourceMappingURL=uncertainty.js.map