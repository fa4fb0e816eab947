// Counts the host allocations of a test binary, to prove that steady-state
// code paths allocate nothing. Linking //testing:allocation_counter replaces
// the global operator new; for tests only.
//
//   int64_t before = theta::HostAllocationCount();
//   f.Call(inputs, outputs);
//   EXPECT_EQ(theta::HostAllocationCount(), before);
#ifndef THETA_TESTING_ALLOCATION_COUNTER_H_
#define THETA_TESTING_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace theta {

// Calls of operator new (any form) so far in this process.
int64_t HostAllocationCount();

}  // namespace theta

#endif  // THETA_TESTING_ALLOCATION_COUNTER_H_
