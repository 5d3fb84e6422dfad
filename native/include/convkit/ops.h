// The operators convkit runs natively, as plain C++ over raw float32 buffers.
// Callers (the binding, the C++ tests) must pass consistent sizes: these functions only assert.
// Layouts: activations nhwc, conv filters hwio (KH,KW,C/G,OC), matrices row-major.
// Unless a comment says "accumulates", every function overwrites its output.
#pragma once

#include <cstddef>
#include <cstdint>

enum ck_act : int {
  CK_ACT_LINEAR = 0,
  CK_ACT_RELU,
  CK_ACT_LEAKY_RELU,
  CK_ACT_ELU,
  CK_ACT_SIGMOID,
  CK_ACT_TANH,
  CK_ACT_RELU6,
  CK_ACT_HARD_SIGMOID,  // clamp(alpha * x + 1/2, 0, 1)
  CK_ACT_HARD_SWISH,    // x * relu6(x + 3) / 6
  CK_ACT_SWISH,         // x * sigmoid(x), also called silu
  CK_ACT_GELU,          // x * Phi(x), Phi the normal distribution function
  CK_ACT_GELU_TANH,     // GELU's tanh approximation
  CK_ACT_SOFTPLUS,
  CK_ACT_SOFTSIGN,
  CK_ACT_SELU,
  CK_ACT_MISH,
  CK_ACT_EXPONENTIAL,
  CK_ACT_COUNT
};

// What a fused op applies before storing: y = act(y * scale + bias + residual). scale and bias (one per output
// column or channel) and residual (laid out like the output, same leading dimension; not overlapping it) may be
// null. A batch normalization folded into the convolution before it is its scale and bias; a residual add after
// it is the residual.
struct ck_epilogue {
  const float* bias = nullptr;
  ck_act act = CK_ACT_LINEAR;
  float alpha = 0.0f;  // leakyRelu slope / elu alpha
  const float* scale = nullptr;
  const float* residual = nullptr;
};

struct ck_conv2d_info {
  size_t batch, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
  size_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_bottom, pad_left, pad_right, groups;
};

struct ck_pool2d_info {
  size_t batch, in_h, in_w, channels, out_h, out_w, pool_h, pool_w;
  size_t stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right;
};

// Weights prepared once for the forward passes of a layer whose weights stay fixed (an inference session's): in
// the form the op's algorithm reads them, for the current ISA, so no call repacks or transforms them. A form
// is a value: an op uses prepared weights only when their form is the one it would make itself, and reads the
// weights as given otherwise.
enum ck_weights_kind : int {
  CK_WEIGHTS_NONE = 0,     // the op reads its weights as they are
  CK_WEIGHTS_GEMM_PANELS,  // B (K,N) as the GEMM tile's micropanels; param: their width
  CK_WEIGHTS_WINOGRAD,     // a convolution filter's Winograd transform; param: the output block's side
};

struct ck_weights_form {
  ck_weights_kind kind = CK_WEIGHTS_NONE;
  int isa = 0;
  size_t param = 0;
  size_t kernel = 0;        // a convolution's kernel side (Winograd), else 0
  size_t rows = 0, cols = 0;  // the weights as a matrix: b's (K,N); a filter's (KH*KW*C/G, OC)
  size_t length = 0;        // floats
  bool operator==(const ck_weights_form& o) const {
    return kind == o.kind && isa == o.isa && param == o.param && kernel == o.kernel && rows == o.rows &&
           cols == o.cols && length == o.length;
  }
};

struct ck_prepared_weights {
  ck_weights_form form;
  const float* data;  // form.length floats
};

// a (M,K) [lda] or, if trans_a, (K,M); b (K,N) [ldb] or, if trans_b, (N,K) -> c (M,N) [ldc].
// c = the epilogue of a.b, or c += a.b when accumulate (then ep must be null). Uses the thread pool.
// w: b prepared (ck_matmul_prepare_weights, ldb == N), or null (or with null data: none).
void ck_gemm(float* c, size_t ldc, const float* a, size_t lda, bool trans_a, const float* b, size_t ldb,
             bool trans_b, size_t m, size_t n, size_t k, bool accumulate, const ck_epilogue* ep,
             const ck_prepared_weights* w = nullptr);
// The form ck_gemm reads a b of (k,n) in when prepared (kind none when transposed).
ck_weights_form ck_matmul_weights_form(size_t k, size_t n, bool trans_b);
// b (k,n) -> dst (form.length floats) in that form.
void ck_matmul_prepare_weights(const ck_weights_form& form, float* dst, const float* b, size_t k, size_t n);

// x (rows,C) + bias (C) -> y (rows,C)
void ck_bias_add(float* y, const float* x, const float* bias, size_t rows, size_t channels);
// dy (rows,C) -> dbias (C), summed over rows
void ck_bias_grad(float* dbias, const float* dy, size_t rows, size_t channels);

// x (N,H,W,C), filter (KH,KW,C/G,OC) -> y (N,OH,OW,OC), then the epilogue
// w: the filter prepared for info (ck_conv2d_prepare_weights), or null (or with null data: none).
void ck_conv2d_fwd(float* y, const float* x, const float* filter, const ck_conv2d_info& info, const ck_epilogue* ep,
                   const ck_prepared_weights* w = nullptr);
// The form ck_conv2d_fwd (and ck_conv2d_maxpool_fwd) read a prepared filter for info in (kind none: the
// algorithm info takes reads the filter as it is).
ck_weights_form ck_conv2d_weights_form(const ck_conv2d_info& info);
// filter -> dst (form.length floats) in that form.
void ck_conv2d_prepare_weights(const ck_weights_form& form, float* dst, const float* filter,
                               const ck_conv2d_info& info);
// dy (N,OH,OW,OC), filter (KH,KW,C/G,OC) -> dx (N,H,W,C)
void ck_conv2d_bwd_input(float* dx, const float* dy, const float* filter, const ck_conv2d_info& info);
// x (N,H,W,C), dy (N,OH,OW,OC) -> dfilter (KH,KW,C/G,OC)
void ck_conv2d_bwd_filter(float* dfilter, const float* x, const float* dy, const ck_conv2d_info& info);

// ck_maxpool2d_fwd of ck_conv2d_fwd's output, without writing that output: x (N,H,W,C), filter (KH,KW,C/G,OC)
// -> y (N,POH,POW,OC), the same values as the two ops in turn. pool describes the pooling of the convolution's
// output (pool.batch, in_h, in_w, channels equal to conv's batch, out_h, out_w, out_c).
// With conv_y, the convolution's output is written there too (training keeps it for the backward pass), each
// task's part still pooled from cache. ep has no residual.
void ck_conv2d_maxpool_fwd(float* y, const float* x, const float* filter, const ck_conv2d_info& conv,
                           const ck_epilogue* ep, const ck_pool2d_info& pool, float* conv_y = nullptr,
                           const ck_prepared_weights* w = nullptr);

// x (N,H,W,C) -> y (N,OH,OW,C); the first maximum in row-major window order wins, padding never does.
// A window with no in-bounds cell yields 0.
void ck_maxpool2d_fwd(float* y, const float* x, const ck_pool2d_info& info);
// dy (N,OH,OW,C), x (N,H,W,C) -> dx (N,H,W,C): dy routed to each window's first maximum. With an activation
// (relu, leaky relu with alpha > 0, sigmoid, tanh: those whose derivative its output gives), x is that
// activation's output and dx the gradient at its input: the same bits as ck_unary_bwd(dx, dx, x) after the
// plain op, from one pass over memory instead of two.
void ck_maxpool2d_bwd(float* dx, const float* dy, const float* x, const ck_pool2d_info& info,
                      ck_act act = CK_ACT_LINEAR, float alpha = 0.0f);
// x (N,H,W,C) -> y (N,OH,OW,C); divides by the number of in-bounds cells (0 cells -> 0)
void ck_avgpool2d_fwd(float* y, const float* x, const ck_pool2d_info& info);
// dy (N,OH,OW,C) -> dx (N,H,W,C)
void ck_avgpool2d_bwd(float* dx, const float* dy, const ck_pool2d_info& info);

// x (N,HW,C) -> y (N,C)
void ck_global_avgpool_fwd(float* y, const float* x, size_t batch, size_t hw, size_t channels);
// dy (N,C) -> dx (N,HW,C)
void ck_global_avgpool_bwd(float* dx, const float* dy, size_t batch, size_t hw, size_t channels);
// x (N,HW,C) -> y (N,C)
void ck_global_maxpool_fwd(float* y, const float* x, size_t batch, size_t hw, size_t channels);
// dy (N,C), x (N,HW,C) -> dx (N,HW,C): dy routed to the first maximum over HW
void ck_global_maxpool_bwd(float* dx, const float* dy, const float* x, size_t batch, size_t hw, size_t channels);

// x (n) -> y (n); kind is not CK_ACT_LINEAR
void ck_unary_fwd(float* y, const float* x, size_t n, ck_act kind, float alpha);
// dy (n), saved (n) -> dx (n); saved is x for relu/leakyRelu/elu and y for sigmoid/tanh
void ck_unary_bwd(float* dx, const float* dy, const float* saved, size_t n, ck_act kind, float alpha);

// Inverted dropout of x[0, n): mask[i] = 1 / (1 - rate) (as a float) where the i-th draw of src/random.ts's Rng
// seeded with seed is at least rate * 2^32, else 0; y = x * mask. The same masks as the reference backend.
void ck_dropout(float* y, float* mask, const float* x, size_t n, uint32_t seed, double rate);
enum ck_binary_op : int { CK_BIN_ADD = 0, CK_BIN_SUB, CK_BIN_MUL, CK_BIN_MAX, CK_BIN_MIN, CK_BIN_COUNT };
// y = a op b elementwise over n values; max and min are NaN if either operand is.
void ck_binary(float* y, const float* a, const float* b, size_t n, ck_binary_op op);
// The gradient of y = max(a, b) (op CK_BIN_MAX) or min(a, b) (CK_BIN_MIN): da = dy where a gave y (ties and NaNs
// included), else 0; db = dy elsewhere, else 0.
void ck_binary_route(float* da, float* db, const float* dy, const float* a, const float* b, size_t n, ck_binary_op op);
// y = x * c
void ck_scale(float* y, const float* x, float c, size_t n);
// dst[r * dst_stride + j] = src[r * src_stride + j] for r < rows, j < cols: one block of a concatenation or a slice.
void ck_copy_rows(float* dst, size_t dst_stride, const float* src, size_t src_stride, size_t rows, size_t cols);
// The index of the first NaN or ±inf in x[0, n), or n when every value is finite.
size_t ck_first_nonfinite(const float* x, size_t n);

// x (rows,C) -> y (rows,C), softmax over C
void ck_softmax_fwd(float* y, const float* x, size_t rows, size_t channels);
// dy (rows,C), y (rows,C) -> dx (rows,C) = y * (dy - sum(dy * y))
void ck_softmax_bwd(float* dx, const float* dy, const float* y, size_t rows, size_t channels);
// logits (N,C), labels (N) in [0,C) -> dlogits (N,C) = (softmax - onehot) / N; returns the mean loss
double ck_softmax_xent_sparse(float* dlogits, const float* logits, const int32_t* labels, size_t n, size_t channels);
// logits (N,C), targets (N,C) -> dlogits (N,C) = (softmax - targets) / N; returns the mean loss
double ck_softmax_xent_dense(float* dlogits, const float* logits, const float* targets, size_t n, size_t channels);

// Batch normalization's passes over x (rows, C), channels last. Sums run over fixed blocks of rows into double
// partials added in block order, so results do not depend on the thread count.
// x -> mean (C) and biased variance (C), in double.
void ck_channel_moments(double* mean, double* var, const float* x, size_t rows, size_t channels);
// a, b (rows, C) -> sum_a (C) = sum over rows of a, sum_ab (C) = of a * b (b may be null: sum_ab not written).
void ck_channel_sums(double* sum_a, double* sum_ab, const float* a, const float* b, size_t rows, size_t channels);
// y = x * s + t, s and t (C) per channel
void ck_channel_affine(float* y, const float* x, const float* s, const float* t, size_t rows, size_t channels);
// Group normalization, layer normalization's general form: x viewed as [n][s][g][k] (n samples, s positions,
// g groups of k channels, channels last); each (sample, group)'s s * k values are normalized by their mean and
// biased variance (two passes in double), then y = xhat * gamma[c] + beta[c] for channel c = group * k + j
// (gamma, beta of g * k values, or null for 1 and 0). Layer normalization over the last axes is s = 1, g = 1.
// stats (2 * n * g doubles) = [mean, 1 / sqrt(var + eps)]; xhat (like x) written when not null.
void ck_group_norm_fwd(float* y, float* xhat, double* stats, const float* x, const float* gamma, const float* beta,
                       size_t n, size_t s, size_t g, size_t k, double eps);
// Its backward from dy, the forward's xhat and 1/std (inv_std, n * g): dx (like x); param_sums (2 * g * k doubles,
// when not null) = [sum of dy, sum of dy * xhat] per channel over samples and positions: dbeta and dgamma.
void ck_group_norm_bwd(float* dx, double* param_sums, const float* dy, const float* xhat, const float* gamma,
                       const double* inv_std, size_t n, size_t s, size_t g, size_t k);
// y = a * sa + b * sb + t, sa, sb and t (C) per channel
void ck_channel_affine2(float* y, const float* a, const float* b, const float* sa, const float* sb, const float* t,
                        size_t rows, size_t channels);

enum ck_optimizer_rule : int {
  CK_OPT_SGD = 0,
  CK_OPT_ADAM,
  CK_OPT_RMSPROP,
  CK_OPT_ADAGRAD,
  CK_OPT_ADADELTA,
  CK_OPT_ADAMAX,
  CK_OPT_NADAM,
  CK_OPT_COUNT
};

// One optimizer step's hyperparameters (the rules are spelled out in runtime/optimizer.cc).
struct ck_optimizer_step_info {
  ck_optimizer_rule rule;
  double lr;        // the learning rate; Adam's bias-corrected step size
  double scale;     // gradient multiplier (clipping), 1 for none
  double decay;     // decoupled weight decay, lr * weightDecay: w -= decay * w before the rule
  double momentum;  // sgd, rmsprop
  bool nesterov;    // sgd
  double beta1, beta2;  // adam, adamax, nadam
  double rho;       // rmsprop, adadelta
  double epsilon;   // adam, rmsprop, adagrad, adadelta, adamax, nadam
  // nadam: m_hat = m_coef * m + g_coef * g, v_hat = v_coef * v (the step's momentum schedule and bias corrections)
  double m_coef, g_coef, v_coef;
};
// w, g (n); slot0, slot1 (n, or null where the rule has fewer slots: sgd without momentum none, sgd and
// adagrad one, rmsprop one or two; adam, adadelta, adamax and nadam two). Updates w and the slots in place, in float64 arithmetic with every value
// read from and rounded back to float32 where the reference backend's typed arrays round it: the same bits.
// Returns the index of the first updated weight that is NaN or ±inf, or n when all are finite.
size_t ck_optimizer_step(float* w, const float* g, float* slot0, float* slot1, size_t n, const ck_optimizer_step_info& s);
