"""One module per Lambda function, each exporting `handler`: envelope → command → use case → response.

Importing one is the function's init phase: the garbage collector pauses here and resumes once the service's
runtime is built (payments_shared.init_phase).
"""

from payments_shared import init_phase

init_phase.pause()
