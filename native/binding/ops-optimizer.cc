// optimizerStep: one optimizer rule applied in place to a weight and its slots.
#include "binding/marshal.h"

namespace {

// optimizerStep(rule, w, g, slot0|null, slot1|null, lr, scale, decay, momentum, nesterov, beta1, beta2, rho,
// epsilon, checkFinite, mCoef, gCoef, vCoef): rule is 'sgd' | 'adam' | 'rmsprop' | 'adagrad' | 'adadelta' |
// 'adamax' | 'nadam' (the coefficients are nadam's, 0 for the others); every array has w's
// length, and the slots a rule needs must be present (sgd: slot0 iff momentum > 0; rmsprop: slot1 iff
// momentum > 0). With checkFinite, an update that leaves a weight NaN or ±inf throws (or rejects) an Error with
// code 'CONVKIT_NONFINITE' and the first such index.
Napi::Value OptimizerStep(const Napi::CallbackInfo& info) {
  const Args args(info, "optimizerStep");
  const std::string rule = args.string(0, "rule");
  ck_optimizer_step_info s{};
  static const char* const kRules[] = {"sgd", "adam", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"};
  s.rule = CK_OPT_COUNT;
  for (int r = 0; r < CK_OPT_COUNT; ++r)
    if (rule == kRules[r]) s.rule = ck_optimizer_rule(r);
  if (s.rule == CK_OPT_COUNT) args.range_error("unknown rule '" + rule + "'");
  s.lr = args.number(5, "lr");
  s.scale = args.number(6, "scale");
  s.decay = args.number(7, "decay");
  s.momentum = args.number(8, "momentum");
  s.nesterov = args.boolean(9, "nesterov");
  s.beta1 = args.number(10, "beta1");
  s.beta2 = args.number(11, "beta2");
  s.rho = args.number(12, "rho");
  s.epsilon = args.number(13, "epsilon");
  const bool check_finite = args.boolean(14, "checkFinite");
  s.m_coef = args.number(15, "mCoef");
  s.g_coef = args.number(16, "gCoef");
  s.v_coef = args.number(17, "vCoef");
  const F32 w = args.f32_inout(1, "w"), g = args.f32(2, "g"), s0 = args.f32_inout_or_null(3, "slot0"),
            s1 = args.f32_inout_or_null(4, "slot1");
  args.expect_length(g, "g", w.length, "w.length");
  const bool needs0 = s.rule != CK_OPT_SGD || s.momentum > 0;
  const bool needs1 = s.rule == CK_OPT_ADAM || s.rule == CK_OPT_ADADELTA || s.rule == CK_OPT_ADAMAX || s.rule == CK_OPT_NADAM ||
                      (s.rule == CK_OPT_RMSPROP && s.momentum > 0);
  if (needs0 != (s0.data != nullptr)) args.type_error(std::string("slot0 must be ") + (needs0 ? "a Float32Array" : "null") + " for this rule");
  if (needs1 != (s1.data != nullptr)) args.type_error(std::string("slot1 must be ") + (needs1 ? "a Float32Array" : "null") + " for this rule");
  if (needs0) args.expect_length(s0, "slot0", w.length, "w.length");
  if (needs1) args.expect_length(s1, "slot1", w.length, "w.length");
  return run_native(args, [=] {
    const size_t bad = ck_optimizer_step(w.data, g.data, s0.data, s1.data, w.length, s);
    if (check_finite && bad < w.length)
      throw ck_kernel_error("optimizerStep: the update left w non-finite (NaN or ±Infinity first at index " +
                                std::to_string(bad) + ")",
                            "CONVKIT_NONFINITE", bad);
  });
}

}  // namespace

void ck_register_optimizer_ops(Napi::Env env, Napi::Object exports) {
  ck_export_op(env, exports, "optimizerStep", OptimizerStep);
}
