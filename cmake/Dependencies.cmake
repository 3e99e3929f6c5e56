# Third-party packages, all from Debian (scripts/setup.sh installs them) or the CUDA toolkit.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)

# OpenBLAS: prefer the OpenMP build so GEMMs and our parallel loops share one thread pool
# (the pthread build would fight OpenMP for the same cores).
find_library(ASN_OPENBLAS_LIB NAMES openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp
  NO_DEFAULT_PATH)
if(NOT ASN_OPENBLAS_LIB)
  find_library(ASN_OPENBLAS_LIB NAMES openblas REQUIRED)
endif()
find_path(ASN_CBLAS_INCLUDE NAMES cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-openmp
  /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas /usr/include REQUIRED)
add_library(asn_openblas INTERFACE)
target_link_libraries(asn_openblas INTERFACE ${ASN_OPENBLAS_LIB})
target_include_directories(asn_openblas INTERFACE ${ASN_CBLAS_INCLUDE})

# FFmpeg's libraries (video decoding).
pkg_check_modules(FFMPEG IMPORTED_TARGET libavformat libavcodec libswscale libavutil)

# OpenMPI (multi-node launch); optional at build time.
find_package(MPI COMPONENTS CXX QUIET)

find_package(Catch2 2 QUIET)
