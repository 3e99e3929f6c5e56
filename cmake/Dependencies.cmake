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

# FFmpeg's libraries (video decoding and encoding, engine/video): ASN_WITH_FFMPEG=AUTO uses them
# when pkg-config finds them, ON requires them, OFF never looks. Without them
# engine/video/video_unavailable.cpp replaces the reader and writer (engine/CMakeLists.txt).
string(TOUPPER "${ASN_WITH_FFMPEG}" asn_ffmpeg_mode)
if(NOT asn_ffmpeg_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "ASN_WITH_FFMPEG must be AUTO, ON or OFF, got '${ASN_WITH_FFMPEG}'")
endif()
set(ASN_FFMPEG_ENABLED OFF)
if(NOT asn_ffmpeg_mode STREQUAL "OFF")
  pkg_check_modules(FFMPEG IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
  if(FFMPEG_FOUND)
    set(ASN_FFMPEG_ENABLED ON)
  elseif(asn_ffmpeg_mode STREQUAL "ON")
    message(FATAL_ERROR "ASN_WITH_FFMPEG=ON but pkg-config does not find libavformat, libavcodec, "
      "libswscale and libavutil (apt-get install libavformat-dev libavcodec-dev libswscale-dev)")
  endif()
endif()

# OpenMPI (multi-node launch); optional at build time.
find_package(MPI COMPONENTS CXX QUIET)

find_package(Catch2 2 QUIET)
