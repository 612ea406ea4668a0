// The controls of the no-allocation check: each library built from this file
// allocates in one of the ways the check looks for (chosen with -DCONTROL_*).
// The tests that run the check on them must fail (WILL_FAIL), which proves the
// check sees each kind of violation.
#include <cstdlib>
#include <new>
#include <stdexcept>

#if defined(CONTROL_MALLOC)
void* control_allocates(std::size_t size) { return std::calloc(1, size); }
#elif defined(CONTROL_NEW)
int* control_allocates() { return new int(3); }
#elif defined(CONTROL_ALIGNED_NEW)
void* control_allocates() { return ::operator new(64, std::align_val_t{64}); }
#elif defined(CONTROL_THROW)
void control_allocates() { throw std::runtime_error("allocates its exception"); }
#else
#error "choose a control with -DCONTROL_MALLOC, -DCONTROL_NEW, -DCONTROL_ALIGNED_NEW or -DCONTROL_THROW"
#endif
