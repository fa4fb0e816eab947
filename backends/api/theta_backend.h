/*
 * theta_backend.h -- the Theta backend plugin ABI (plain C).
 *
 * A backend is a shared object that exports one function,
 *
 *     const theta_backend_api* theta_backend_get_api(void);
 *
 * returning a static table of function pointers. Theta's loader dlopens the
 * library, calls the entry point, checks the table's header (size and ABI
 * version) and then calls only through the table. Nothing C++ crosses this
 * boundary: no exceptions, no std:: types, no C++ ownership.
 *
 * Versioning. The table starts with `struct_size` (sizeof the table the plugin
 * was built with) and an ABI major/minor version. A loader accepts a plugin
 * only when the majors are equal. Within one major the rules are:
 *
 *   1. Fields are only ever appended, to the table and to the argument
 *      structs; nothing is removed, reordered or retyped.
 *   2. Each struct's size at minor 0 is frozen: THETA_BACKEND_API_SIZE_1_0,
 *      THETA_GEMM_ARGS_SIZE_1_0, ... (the end of its last 1.0 field).
 *   3. A plugin accepts an argument struct whose `struct_size` is at least
 *      the frozen 1.0 size, reads only the fields that size covers
 *      (THETA_API_HAS) and gives every newer field the default its comment
 *      states. A smaller struct_size is INVALID_ARGUMENT.
 *   4. A loader accepts a table whose `struct_size` is at least
 *      THETA_BACKEND_API_SIZE_1_0 and never reads past `struct_size`. An
 *      entry the table does not cover (or a NULL one appended after 1.0) is
 *      unsupported: the loader never calls it and puts a stand-in in its
 *      place (for `supports`: no kernel on any dtype).
 *   5. Optional features that need no table slot are reached by name
 *      through `get_extension`.
 *
 * History:
 *   1.0  the table up to `rng`; status codes 1..6 (see theta_status_code).
 *   1.1  `supports` (the capability query) appended to the table; status
 *        codes take absl::StatusCode's numbers. A loader reads the codes of
 *        a 1.0 plugin through the 1.0 numbering (THETA_STATUS_1_0_*); a
 *        1.0 loader given a 1.1 plugin would misname a failure's code (its
 *        message is intact).
 *   1.2  prepared GEMM operands: `gemm_prepare` and `gemm_operand_free`
 *        appended to the table, `prepared_b` to theta_gemm_args (default
 *        NULL: plain GEMM). A caller checks for the entries with
 *        THETA_API_HAS before preparing; a 1.1 plugin given the larger
 *        args struct ignores `prepared_b` and reads `b` as always.
 *   1.3  `flags` appended to theta_device_info, with
 *        THETA_DEVICE_HOST_MEMORY: the CPU plugin says its memory is the
 *        host's, so callers bind host tensors to kernels without copies.
 *
 * Errors. Every fallible function returns `theta_status*`: NULL means
 * success; otherwise a plugin-owned object with a code and a message, which
 * the caller must release with `status_free` exactly once. Every function is
 * noexcept: the plugin catches everything at its edge.
 *
 * Memory and addresses. Buffers are allocated on a device and released by
 * `buffer_free`. `buffer_data` gives the buffer's device address: a pointer
 * that kernels and copies accept, with byte arithmetic allowed inside the
 * buffer, but that the host may dereference only when the plugin's device is
 * host memory (the CPU plugin). Every object a function returns is owned by
 * the plugin and lives until the matching destroy/free/close call; strings
 * returned in the table live as long as the library stays loaded.
 *
 * Streams. Copies and kernels are enqueued on a stream and may run
 * asynchronously with respect to the host; work on one stream runs in order.
 * Host memory passed to a copy must stay valid, and must not be read (device
 * to host) or written (host to device), until `stream_synchronize` returns.
 * Errors detected while a kernel runs asynchronously are returned by the next
 * `stream_synchronize` on that stream.
 *
 * Threads. Every function may be called from any thread. Calls that enqueue
 * work on the same stream must not run concurrently; distinct streams may be
 * used concurrently. Objects must not be destroyed while another thread uses
 * them.
 *
 * Arrays. Kernels describe tensors with `theta_array`: a device address of
 * element (0, ..., 0), a dtype, a rank up to THETA_MAX_DIMS, a shape and
 * strides counted in elements (not bytes). Strides may be zero (broadcast) or
 * positive; arrays that the copy and elementwise kernels only read may also
 * have negative strides (reversed views: the address is still that of
 * element (0, ..., 0)). Rank 0 is a scalar. Unless a function says
 * otherwise, an output must not overlap any input.
 */
#ifndef THETA_BACKENDS_API_THETA_BACKEND_H_
#define THETA_BACKENDS_API_THETA_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define THETA_NOEXCEPT noexcept
#else
#define THETA_NOEXCEPT
#endif

#if defined(_WIN32)
#define THETA_BACKEND_EXPORT __declspec(dllexport)
#else
#define THETA_BACKEND_EXPORT __attribute__((visibility("default")))
#endif

/* ABI version of this header. Bump the major for any incompatible change;
 * bump the minor when appending fields to the table or to an args struct
 * (and record the change in the history above). */
#define THETA_BACKEND_ABI_MAJOR 1
#define THETA_BACKEND_ABI_MINOR 3

/* The one symbol every plugin exports. */
#define THETA_BACKEND_ENTRY_POINT "theta_backend_get_api"

/* Largest rank a kernel accepts. */
#define THETA_MAX_DIMS 8

/* The offset just past FIELD of struct TYPE. */
#define THETA_FIELD_END(TYPE, FIELD) \
  (offsetof(TYPE, FIELD) + sizeof(((TYPE*)0)->FIELD))

/* True when a table (or args struct) of `struct_size` bytes contains FIELD. */
#define THETA_API_HAS(ptr, TYPE, FIELD) \
  ((ptr)->struct_size >= THETA_FIELD_END(TYPE, FIELD))

/* ------------------------------------------------------------------------ */
/* Status                                                                   */
/* ------------------------------------------------------------------------ */

/* Since ABI 1.1 the codes are numbered as absl::StatusCode, so a loader
 * written in C++ maps them one to one. */
typedef enum theta_status_code {
  THETA_STATUS_OK = 0,                  /* never carried by a status object */
  THETA_STATUS_INVALID_ARGUMENT = 3,    /* bad shape, dtype, index, alignment */
  THETA_STATUS_FAILED_PRECONDITION = 9, /* wrong call order, closed object */
  THETA_STATUS_OUT_OF_MEMORY = 8,       /* absl's RESOURCE_EXHAUSTED */
  THETA_STATUS_UNIMPLEMENTED = 12,      /* a valid request this plugin lacks */
  THETA_STATUS_INTERNAL = 13,   /* a bug or an unexpected library error */
  THETA_STATUS_UNAVAILABLE = 14 /* no device, no driver */
} theta_status_code;

/* The numbering of ABI 1.0 plugins (abi_minor 0), which a loader converts;
 * no plugin built against this header returns these. */
#define THETA_STATUS_1_0_INVALID_ARGUMENT 1
#define THETA_STATUS_1_0_OUT_OF_MEMORY 2
#define THETA_STATUS_1_0_UNAVAILABLE 3
#define THETA_STATUS_1_0_UNIMPLEMENTED 4
#define THETA_STATUS_1_0_INTERNAL 5
#define THETA_STATUS_1_0_FAILED_PRECONDITION 6

/* Opaque error object; NULL means success. */
typedef struct theta_status theta_status;

/* ------------------------------------------------------------------------ */
/* Data types                                                               */
/* ------------------------------------------------------------------------ */

typedef enum theta_dtype {
  THETA_DTYPE_F32 = 0,
  THETA_DTYPE_F64 = 1,
  THETA_DTYPE_I32 = 2,
  THETA_DTYPE_I64 = 3,
  THETA_DTYPE_U8 = 4,
  THETA_DTYPE_BOOL = 5 /* one byte, 0 or 1 */
} theta_dtype;

typedef struct theta_array {
  void* data; /* device address of element (0, ..., 0); const for inputs */
  theta_dtype dtype;
  int32_t ndim;           /* 0 .. THETA_MAX_DIMS */
  const int64_t* shape;   /* ndim entries, each >= 0 */
  const int64_t* strides; /* ndim entries, in elements; >= 0 except for
                             arrays that copy and elementwise only read */
} theta_array;

/* ------------------------------------------------------------------------ */
/* Opaque handles, all owned by the plugin                                  */
/* ------------------------------------------------------------------------ */

typedef struct theta_plugin theta_plugin; /* one initialised instance */
typedef struct theta_device theta_device;
typedef struct theta_stream theta_stream;
typedef struct theta_buffer theta_buffer;
typedef struct theta_gemm_operand theta_gemm_operand; /* ABI 1.2 */

/* theta_device_info::flags (ABI 1.3). */
/* The device's memory is the host's: buffer_data addresses are host
 * pointers, and every kernel and copy accepts any host memory (not only
 * this plugin's buffers) as an array, under the same rules. A caller may
 * then hand its own host arrays to kernels instead of copying them in and
 * out of buffers. */
#define THETA_DEVICE_HOST_MEMORY ((uint64_t)1)

typedef struct theta_device_info {
  size_t struct_size; /* set by the caller to sizeof(theta_device_info) */
  char name[128];     /* NUL-terminated */
  uint64_t total_memory_bytes;
  uint64_t free_memory_bytes;
  /* ABI 1.3: THETA_DEVICE_* bits. A plugin writes it only when the
   * caller's struct_size covers it; callers zero the struct first, so an
   * older plugin reads as 0 (device memory). */
  uint64_t flags;
} theta_device_info;
/* Frozen: the size of theta_device_info under ABI 1.0. */
#define THETA_DEVICE_INFO_SIZE_1_0 \
  THETA_FIELD_END(theta_device_info, free_memory_bytes)

/* ------------------------------------------------------------------------ */
/* Kernel arguments                                                         */
/* ------------------------------------------------------------------------ */

/* Strided batched GEMM, row-major:
 *   for i in [0, batch): C_i = alpha * op(A_i) * op(B_i) + beta * C_i
 * with X_i = X + i * stride_x elements, op(X) = X or X^T. op(A_i) is m x k,
 * op(B_i) is k x n, C_i is m x n. Leading dimensions are row strides in
 * elements: A_i is (trans_a ? k x m : m x k) with row stride lda >= its
 * column count, likewise B. When beta == 0, C is not read (NaN in C does not
 * propagate). m, n or batch of 0 is a no-op; k == 0 gives C = beta * C.
 * C must not overlap A or B. dtype is F32 or F64. */
typedef struct theta_gemm_args {
  size_t struct_size;
  theta_dtype dtype;
  int32_t trans_a;
  int32_t trans_b;
  int64_t m, n, k;
  double alpha;
  double beta;
  const void* a;
  int64_t lda;
  int64_t stride_a;
  const void* b;
  int64_t ldb;
  int64_t stride_b;
  void* c;
  int64_t ldc;
  int64_t stride_c;
  int64_t batch;
  /* ---- end of ABI 1.0 (THETA_GEMM_ARGS_SIZE_1_0) ---- */

  /* ABI 1.2. NULL (the default): none. Otherwise an operand prepared by
   * `gemm_prepare` from exactly this call's B: the same dtype, b, ldb,
   * trans_b, k and n, with stride_b 0 when batch > 1 (one B for every
   * item). The plugin may read the prepared operand or `b`, so `b` and the
   * fields describing it stay required; a prepared operand that does not
   * match them is INVALID_ARGUMENT. */
  const theta_gemm_operand* prepared_b;
} theta_gemm_args;
/* Frozen: the size of theta_gemm_args under ABI 1.0. */
#define THETA_GEMM_ARGS_SIZE_1_0 THETA_FIELD_END(theta_gemm_args, batch)

/* ABI 1.2. The B operand of many later GEMMs, to be prepared once (a plugin
 * may pack it into the layout its kernel reads, so that each product skips
 * that work): op(B) is k x n, stored as theta_gemm_args describes B (`ld`
 * is its row stride, `trans` whether it is stored transposed). dtype is F32
 * or F64. */
typedef struct theta_gemm_prepare_args {
  size_t struct_size;
  theta_dtype dtype;
  int32_t trans;
  int64_t k, n;
  const void* data;
  int64_t ld;
} theta_gemm_prepare_args;
/* Frozen: the size of theta_gemm_prepare_args at its introduction (1.2). */
#define THETA_GEMM_PREPARE_ARGS_SIZE_1_2 \
  THETA_FIELD_END(theta_gemm_prepare_args, ld)

/* The fused elementwise program: a straight-line bytecode evaluated once per
 * element of an index space `shape` (rank ndim). Registers hold values of
 * `compute_dtype` (F32, F64, I32 or I64). Inputs and outputs are arrays with
 * the program's shape and their own dtype and strides (a broadcast input has
 * stride 0 along the broadcast dimensions). Loads convert the input's dtype
 * to the compute dtype; stores convert to the output's dtype (float to
 * integer truncates toward zero; any value to BOOL stores value != 0).
 *
 * Instruction fields: `op` is a theta_ew_opcode; `dst` is the destination
 * register (for STORE: the output index); `a`, `b`, `c` are source
 * registers (for LOAD: the input index; for PARAM: the parameter index).
 * Unary ops read `a`, binary `a` and `b`, ternary `a`, `b` and `c`.
 *
 * Semantics of each opcode, in every compute dtype, are defined by the
 * reference implementation in elementwise_semantics.h. An instruction's
 * destination register may be one of its source registers. Every output
 * element is written exactly once; an output may be the same array as an
 * input (identical data and strides: in place), any other overlap is
 * undefined. Inputs may have negative strides (reversed views). */
/* Every elementwise opcode, as one X-macro table; the enum below, the
 * reference semantics' arity and kind queries (elementwise_semantics.h), the
 * plugins' opcode names and the core's op names are generated from it. A new
 * opcode is one line here (a value never used before: values are the ABI and
 * never change), its semantics in elementwise_semantics.h, and its op and
 * gradient in the core.
 *
 * X(ID, VALUE, ARITY, KIND, NAME): the enumerator is THETA_EW_<ID> = VALUE;
 * ARITY is the number of source registers (0 for LOAD, PARAM and STORE,
 * whose operands are not registers); KIND is a theta_ew_kind without its
 * THETA_EW_KIND_ prefix; NAME is the op's name in the core ("Elemwise{exp}",
 * after Theano's scalar op names). THETA_EW_DATA_OPCODES lists the data
 * movement opcodes, THETA_EW_COMPUTE_OPCODES those that compute a value from
 * registers; THETA_EW_OPCODES both. */
/* clang-format off */
#define THETA_EW_DATA_OPCODES(X)                                            \
  X(LOAD,   0, 0, DATA, "load")   /* r[dst] = input[a] */                   \
  X(PARAM,  1, 0, DATA, "param")  /* r[dst] = params[a] */                  \
  X(STORE,  2, 0, DATA, "store")  /* output[dst] = r[a] */

#define THETA_EW_COMPUTE_OPCODES(X)                                         \
  X(COPY,        3, 1, ARITHMETIC,     "identity") /* r[dst] = r[a] */      \
  /* unary */                                                               \
  X(NEG,        10, 1, ARITHMETIC,     "neg")                               \
  X(ABS,        11, 1, ARITHMETIC,     "abs")                               \
  X(SIGN,       12, 1, ARITHMETIC,     "sign")                              \
  X(EXP,        13, 1, TRANSCENDENTAL, "exp")                               \
  X(LOG,        14, 1, TRANSCENDENTAL, "log")                               \
  X(LOG1P,      15, 1, TRANSCENDENTAL, "log1p")                             \
  X(EXPM1,      16, 1, TRANSCENDENTAL, "expm1")                             \
  X(SQRT,       17, 1, ARITHMETIC,     "sqrt")                              \
  X(RSQRT,      18, 1, ARITHMETIC,     "rsqrt")                             \
  X(SQUARE,     19, 1, ARITHMETIC,     "sqr")                               \
  X(RECIPROCAL, 20, 1, ARITHMETIC,     "inv")                               \
  X(TANH,       21, 1, TRANSCENDENTAL, "tanh")                              \
  X(SIGMOID,    22, 1, TRANSCENDENTAL, "sigmoid")                           \
  X(SOFTPLUS,   23, 1, TRANSCENDENTAL, "softplus")                          \
  X(RELU,       24, 1, ARITHMETIC,     "relu")                              \
  X(SIN,        25, 1, TRANSCENDENTAL, "sin")                               \
  X(COS,        26, 1, TRANSCENDENTAL, "cos")                               \
  X(FLOOR,      27, 1, ARITHMETIC,     "floor")                             \
  X(CEIL,       28, 1, ARITHMETIC,     "ceil")                              \
  X(ROUND,      29, 1, ARITHMETIC,     "round") /* half to even */          \
  X(TRUNC,      30, 1, ARITHMETIC,     "trunc")                             \
  X(NOT,        31, 1, PREDICATE,      "not")   /* logical: a == 0 */       \
  X(ERF,        32, 1, TRANSCENDENTAL, "erf")                               \
  X(ISNAN,      33, 1, PREDICATE,      "isnan")                             \
  X(ISINF,      34, 1, PREDICATE,      "isinf")                             \
  /* binary */                                                              \
  X(ADD,        50, 2, ARITHMETIC,     "add")                               \
  X(SUB,        51, 2, ARITHMETIC,     "sub")                               \
  X(MUL,        52, 2, ARITHMETIC,     "mul")                               \
  /* floats: a / b; integers: floor division, x / 0 = 0 */                 \
  X(DIV,        53, 2, ARITHMETIC,     "div")                               \
  /* floor modulo (sign of b); integers: x % 0 = 0 */                       \
  X(MOD,        54, 2, ARITHMETIC,     "mod")                               \
  X(POW,        55, 2, ARITHMETIC,     "pow")                               \
  X(MAX,        56, 2, ARITHMETIC,     "maximum") /* NaN if either is NaN */\
  X(MIN,        57, 2, ARITHMETIC,     "minimum") /* NaN if either is NaN */\
  /* comparisons and logical ops give 1 or 0 */                             \
  X(EQ,         58, 2, PREDICATE,      "eq")                                \
  X(NE,         59, 2, PREDICATE,      "neq")                               \
  X(LT,         60, 2, PREDICATE,      "lt")                                \
  X(LE,         61, 2, PREDICATE,      "le")                                \
  X(GT,         62, 2, PREDICATE,      "gt")                                \
  X(GE,         63, 2, PREDICATE,      "ge")                                \
  /* logical: (a != 0) && (b != 0) */                                       \
  X(AND,        64, 2, PREDICATE,      "and")                               \
  X(OR,         65, 2, PREDICATE,      "or")                                \
  X(XOR,        66, 2, PREDICATE,      "xor")                               \
  X(ATAN2,      67, 2, ARITHMETIC,     "atan2")                             \
  /* ternary */                                                             \
  X(SELECT,     80, 3, ARITHMETIC,     "switch") /* a != 0 ? b : c */       \
  /* min(max(a, b), c), NaN in a propagates */                              \
  X(CLIP,       81, 3, ARITHMETIC,     "clip")

#define THETA_EW_OPCODES(X) THETA_EW_DATA_OPCODES(X) THETA_EW_COMPUTE_OPCODES(X)
/* clang-format on */

/* What an opcode does, for cost models and type rules: DATA moves values
 * in or out of registers; a PREDICATE gives 1 or 0 (the core types its
 * result bool); a TRANSCENDENTAL is computed by a polynomial or a library
 * call (not exact in the last bit, several times the cost of an add);
 * ARITHMETIC is everything else. */
typedef enum theta_ew_kind {
  THETA_EW_KIND_DATA = 0,
  THETA_EW_KIND_ARITHMETIC = 1,
  THETA_EW_KIND_TRANSCENDENTAL = 2,
  THETA_EW_KIND_PREDICATE = 3
} theta_ew_kind;

#define THETA_EW_ENUMERATOR(ID, VALUE, ARITY, KIND, NAME) THETA_EW_##ID = VALUE,
typedef enum theta_ew_opcode {
  THETA_EW_OPCODES(THETA_EW_ENUMERATOR)
} theta_ew_opcode;
#undef THETA_EW_ENUMERATOR

/* Register fields are 16 bits, so a program has at most this many
 * registers: a plugin rejects a larger num_registers with INVALID_ARGUMENT
 * (never wraps or truncates a register number). A compiler must number its
 * registers densely (reuse a register after its value's last read) and
 * refuse, not truncate, a program that still needs more. */
#define THETA_EW_MAX_REGISTERS 65536

typedef struct theta_ew_instr {
  uint16_t op;
  uint16_t dst;
  uint16_t a;
  uint16_t b;
  uint16_t c;
} theta_ew_instr;

typedef struct theta_ew_program {
  size_t struct_size;
  theta_dtype compute_dtype;
  uint32_t num_registers; /* registers are 0 .. num_registers-1;
                             at most THETA_EW_MAX_REGISTERS */
  uint32_t num_instrs;
  const theta_ew_instr* instrs;
} theta_ew_program;
/* Frozen: the size of theta_ew_program under ABI 1.0. */
#define THETA_EW_PROGRAM_SIZE_1_0 THETA_FIELD_END(theta_ew_program, instrs)

/* An operand of the elementwise kernel: its strides follow the program's
 * index space (ndim entries). */
typedef struct theta_ew_operand {
  void* data; /* const for inputs */
  theta_dtype dtype;
  const int64_t* strides;
} theta_ew_operand;

typedef struct theta_elementwise_args {
  size_t struct_size;
  const theta_ew_program* program;
  int32_t ndim;
  const int64_t* shape;
  int32_t num_inputs;
  const theta_ew_operand* inputs;
  int32_t num_outputs;
  const theta_ew_operand* outputs;
  int32_t num_params;
  const double* params; /* host memory, read before the call returns */
} theta_elementwise_args;
/* Frozen: the size of theta_elementwise_args under ABI 1.0. */
#define THETA_ELEMENTWISE_ARGS_SIZE_1_0 \
  THETA_FIELD_END(theta_elementwise_args, params)

typedef enum theta_reduce_op {
  THETA_REDUCE_SUM = 0,
  THETA_REDUCE_PROD = 1,
  THETA_REDUCE_MAX = 2,    /* NaN propagates */
  THETA_REDUCE_MIN = 3,    /* NaN propagates */
  THETA_REDUCE_ARGMAX = 4, /* first maximum; first NaN wins */
  THETA_REDUCE_ARGMIN = 5  /* first minimum; first NaN wins */
} theta_reduce_op;

/* Reduction of `input` over the dimensions in `axes_mask` (bit d set reduces
 * dimension d). `output` has the input's rank with every reduced dimension of
 * size 1, and the input's dtype, except ARGMAX/ARGMIN: exactly one axis, and
 * an I64 output. Over an empty set: SUM gives 0, PROD 1, MAX -inf (floats)
 * or the lowest integer, MIN the reverse; ARGMAX/ARGMIN of an empty axis is
 * INVALID_ARGUMENT. F32 sums may accumulate in higher precision. */
typedef struct theta_reduce_args {
  size_t struct_size;
  theta_reduce_op op;
  theta_array input;
  uint32_t axes_mask;
  theta_array output;
} theta_reduce_args;
/* Frozen: the size of theta_reduce_args under ABI 1.0. */
#define THETA_REDUCE_ARGS_SIZE_1_0 THETA_FIELD_END(theta_reduce_args, output)

/* Softmax (log_softmax when `log` is nonzero) along the last dimension of a
 * rank >= 1 floating array, max-subtracted for stability. `output` has the
 * input's shape and dtype; it may be the same array as the input.
 * A row holding a NaN or a +inf, or nothing but -inf, comes out all NaN; in
 * other rows a -inf (a masked entry) gives exactly 0 (log_softmax: -inf).
 * Accuracy of the CPU plugin: exp(x - max) within 1 ulp (measured maximum
 * 0.89 ulp for F32 and F64 by backends/cpu/vec_math_test; results below the
 * smallest normal number flush to 0), the row sum in double (F32: partial
 * sums of 16 terms in float, two of 8 added), so each output within a few
 * ulp. */
typedef struct theta_softmax_args {
  size_t struct_size;
  int32_t log;
  theta_array input;
  theta_array output;
} theta_softmax_args;
/* Frozen: the size of theta_softmax_args under ABI 1.0. */
#define THETA_SOFTMAX_ARGS_SIZE_1_0 THETA_FIELD_END(theta_softmax_args, output)

/* Gather along an axis (take):
 *   output[i_0..i_{a-1}, j_0..j_{q-1}, i_{a+1}..] =
 *       source[i_0..i_{a-1}, indices[j_0..j_{q-1}], i_{a+1}..]
 * output has rank source.ndim - 1 + indices.ndim and the source's dtype.
 * indices are I32 or I64; a negative index counts from the end; an index out
 * of [-size, size) is INVALID_ARGUMENT (possibly from the next synchronize).
 *
 * Scatter-add is its adjoint: destination[.., indices[j..], ..] += source[..,
 * j.., ..], duplicates accumulating. destination must not overlap source or
 * indices. */
typedef struct theta_gather_args {
  size_t struct_size;
  int32_t axis;
  theta_array source;
  theta_array indices;
  theta_array output; /* gather: written; scatter_add: the destination */
} theta_gather_args;
/* Frozen: the size of theta_gather_args under ABI 1.0. */
#define THETA_GATHER_ARGS_SIZE_1_0 THETA_FIELD_END(theta_gather_args, output)

/* Strided copy between two arrays of the same shape and dtype (transpose,
 * slicing, concatenation are copies with suitable strides; the source may
 * have zero strides (broadcast) or negative ones (reversal)). The arrays
 * must not overlap unless they are identical. */
typedef struct theta_copy_args {
  size_t struct_size;
  theta_array source;
  theta_array destination;
} theta_copy_args;
/* Frozen: the size of theta_copy_args under ABI 1.0. */
#define THETA_COPY_ARGS_SIZE_1_0 THETA_FIELD_END(theta_copy_args, destination)

/* Counter-based random numbers: Philox4x32-10. Element e (in row-major
 * order of `output`) is drawn from counter n = offset + e:
 *   UNIFORM, F32: word (n mod 4) of philox(key = seed, counter = n / 4),
 *                 u = (word >> 8) * 2^-24 in [0, 1),
 *                 value = fma(b - a, u, a) (one rounding, in double).
 *   UNIFORM, F64: words 2(n mod 2), 2(n mod 2)+1 of philox(counter = n / 2),
 *                 u = (hi << 21 | lo >> 11) * 2^-53, value = fma(b - a, u, a).
 *   NORMAL:       words 2(n mod 2), 2(n mod 2)+1 of philox(counter = n / 2),
 *                 u1 = ((w0 >> 8) + 1) * 2^-24, u2 = (w1 >> 8) * 2^-24,
 *                 value = a + b * sqrt(-2 ln u1) cos(2 pi u2)   (a = mean,
 *                 b = standard deviation), computed in double and rounded.
 * The counter is 128 bits (low 64 bits = n / 4 or n / 2, high 64 bits 0) and
 * the key the 64-bit seed. Every backend produces the same uniform numbers
 * bit for bit. Normal numbers agree to the last bits of the platform's
 * log/cos: z = sqrt(-2 ln u1) cos(2 pi u2) within 4 ulp, so a + b z within
 * 4 ulp of b z plus one rounding (where a + b z nearly cancels, that is
 * many ulps of the result). The output dtype is F32 or F64. Uniform values
 * too are computed in double (fma(b - a, u, a) with u exact) and then
 * rounded to the output dtype, so F32 bits do not depend on the backend's
 * choice of float or double arithmetic. */
typedef enum theta_rng_distribution {
  THETA_RNG_UNIFORM = 0,
  THETA_RNG_NORMAL = 1
} theta_rng_distribution;

typedef struct theta_rng_args {
  size_t struct_size;
  theta_rng_distribution distribution;
  uint64_t seed;
  uint64_t offset;
  double a;
  double b;
  theta_array output;
} theta_rng_args;
/* Frozen: the size of theta_rng_args under ABI 1.0. */
#define THETA_RNG_ARGS_SIZE_1_0 THETA_FIELD_END(theta_rng_args, output)

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

/* The kernels of the table, for the capability query (`supports`). The
 * dtype asked about is: GEMM, SOFTMAX, RNG, FILL: the data's; ELEMENTWISE:
 * the program's compute dtype; REDUCE: the input's; GATHER, SCATTER_ADD:
 * the source's (the data moved, not the indices); COPY: the arrays'. */
typedef enum theta_kernel {
  THETA_KERNEL_GEMM = 0,
  THETA_KERNEL_ELEMENTWISE = 1,
  THETA_KERNEL_REDUCE = 2,
  THETA_KERNEL_SOFTMAX = 3,
  THETA_KERNEL_GATHER = 4,
  THETA_KERNEL_SCATTER_ADD = 5,
  THETA_KERNEL_COPY = 6,
  THETA_KERNEL_FILL = 7,
  THETA_KERNEL_RNG = 8
} theta_kernel;

/* Number of theta_kernel values. */
#define THETA_KERNEL_COUNT 9

typedef struct theta_backend_api {
  /* Header: fixed for every ABI version. */
  size_t struct_size; /* sizeof(theta_backend_api) in the plugin's build */
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* name;    /* short backend name, e.g. "cpu"; static */
  const char* version; /* the plugin's own version; static */

  /* Status objects. */
  theta_status_code (*status_code)(const theta_status* status) THETA_NOEXCEPT;
  /* Valid until status_free(status). */
  const char* (*status_message)(const theta_status* status)THETA_NOEXCEPT;
  void (*status_free)(theta_status* status) THETA_NOEXCEPT;

  /* Plugin instance. plugin_create initialises the backend's libraries and
   * fails with UNAVAILABLE when the hardware or driver is missing (the
   * message says why). Instances are independent; destroy each once, after
   * closing its devices. */
  theta_status* (*plugin_create)(theta_plugin** out)THETA_NOEXCEPT;
  void (*plugin_destroy)(theta_plugin* plugin) THETA_NOEXCEPT;

  /* Optional features by name: returns NULL when the plugin lacks `name`.
   * The returned pointer's type and lifetime are defined by the feature's
   * documentation; it is valid while `plugin` lives. */
  void* (*get_extension)(theta_plugin* plugin, const char* name)THETA_NOEXCEPT;

  /* Devices. */
  theta_status* (*device_count)(theta_plugin* plugin,
                                int32_t* count)THETA_NOEXCEPT;
  theta_status* (*device_get_info)(theta_plugin* plugin, int32_t index,
                                   theta_device_info* info)THETA_NOEXCEPT;
  theta_status* (*device_open)(theta_plugin* plugin, int32_t index,
                               theta_device** out)THETA_NOEXCEPT;
  /* Close after freeing its buffers and destroying its streams. */
  void (*device_close)(theta_device* device) THETA_NOEXCEPT;

  /* Streams: ordered queues of copies and kernels on one device. */
  theta_status* (*stream_create)(theta_device* device,
                                 theta_stream** out)THETA_NOEXCEPT;
  void (*stream_destroy)(theta_stream* stream) THETA_NOEXCEPT;
  /* Waits for everything enqueued so far; returns its first error. */
  theta_status* (*stream_synchronize)(theta_stream* stream)THETA_NOEXCEPT;

  /* Buffers. A buffer of 0 bytes is valid (its data address may be NULL).
   * Device addresses are aligned to at least 64 bytes. buffer_free must not
   * be called while enqueued work still uses the buffer (synchronize
   * first). */
  theta_status* (*buffer_alloc)(theta_device* device, uint64_t bytes,
                                theta_buffer** out)THETA_NOEXCEPT;
  void (*buffer_free)(theta_buffer* buffer) THETA_NOEXCEPT;
  void* (*buffer_data)(theta_buffer* buffer)THETA_NOEXCEPT;

  /* Copies of `bytes` bytes; `dst`/`src` device addresses, host pointers
   * where named host. Regions must not overlap (device_to_device too). */
  theta_status* (*copy_host_to_device)(theta_stream* stream, void* dst,
                                       const void* host_src,
                                       uint64_t bytes)THETA_NOEXCEPT;
  theta_status* (*copy_device_to_host)(theta_stream* stream, void* host_dst,
                                       const void* src,
                                       uint64_t bytes)THETA_NOEXCEPT;
  theta_status* (*copy_device_to_device)(theta_stream* stream, void* dst,
                                         const void* src,
                                         uint64_t bytes)THETA_NOEXCEPT;
  theta_status* (*memset)(theta_stream* stream, void* dst, uint8_t value,
                          uint64_t bytes)THETA_NOEXCEPT;

  /* Kernels; each args struct documents shapes and aliasing. */
  theta_status* (*gemm)(theta_stream* stream,
                        const theta_gemm_args* args)THETA_NOEXCEPT;
  theta_status* (*elementwise)(
      theta_stream* stream, const theta_elementwise_args* args)THETA_NOEXCEPT;
  theta_status* (*reduce)(theta_stream* stream,
                          const theta_reduce_args* args)THETA_NOEXCEPT;
  theta_status* (*softmax)(theta_stream* stream,
                           const theta_softmax_args* args)THETA_NOEXCEPT;
  theta_status* (*gather)(theta_stream* stream,
                          const theta_gather_args* args)THETA_NOEXCEPT;
  theta_status* (*scatter_add)(theta_stream* stream,
                               const theta_gather_args* args)THETA_NOEXCEPT;
  theta_status* (*copy)(theta_stream* stream,
                        const theta_copy_args* args)THETA_NOEXCEPT;
  /* Sets every element of `array` to `value` converted to its dtype. */
  theta_status* (*fill)(theta_stream* stream, const theta_array* array,
                        double value)THETA_NOEXCEPT;
  theta_status* (*rng)(theta_stream* stream,
                       const theta_rng_args* args)THETA_NOEXCEPT;
  /* ---- end of ABI 1.0 (THETA_BACKEND_API_SIZE_1_0) ---- */

  /* ABI 1.1. The capability query: 1 when this plugin runs `kernel` on
   * operands of `dtype` (see theta_kernel for which operand's dtype), 0 when
   * it does not or when `kernel` or `dtype` is a value it does not know. A
   * supported pair can still fail for other arguments (shapes, strides,
   * sizes past a library's limits); an unsupported one fails with
   * INVALID_ARGUMENT or UNIMPLEMENTED. The answer depends only on the
   * plugin, never on its devices or on earlier calls. `kernel` is a
   * theta_kernel and `dtype` a theta_dtype, passed as plain integers so that
   * a value the plugin does not know is well defined on both sides. */
  int32_t (*supports)(theta_plugin* plugin, int32_t kernel,
                      int32_t dtype) THETA_NOEXCEPT;

  /* ABI 1.2. Prepared GEMM operands (theta_gemm_prepare_args). gemm_prepare
   * reads the operand in stream order (after the work enqueued before it)
   * and sets *out to a plugin-owned object for `prepared_b`, or to NULL
   * when this plugin gains nothing from preparing such an operand (the
   * caller then runs plain GEMMs). The operand's data must not change while
   * the prepared object is used: a prepared operand may be a copy of the
   * values it was made from. gemm_operand_free releases it once the work
   * enqueued before on `stream` no longer needs it; NULL is a no-op. A
   * prepared operand belongs to the device of the stream that made it. */
  theta_status* (*gemm_prepare)(theta_stream* stream,
                                const theta_gemm_prepare_args* args,
                                theta_gemm_operand** out)THETA_NOEXCEPT;
  void (*gemm_operand_free)(theta_stream* stream,
                            theta_gemm_operand* operand) THETA_NOEXCEPT;
} theta_backend_api;

/* Frozen: the size of the table under ABI 1.0 (through `rng`). */
#define THETA_BACKEND_API_SIZE_1_0 THETA_FIELD_END(theta_backend_api, rng)

/* Type of the entry point. The returned table is static: valid until the
 * library is unloaded, never NULL for a working plugin. */
typedef const theta_backend_api* (*theta_backend_get_api_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* THETA_BACKENDS_API_THETA_BACKEND_H_ */
