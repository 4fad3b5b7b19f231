# Puts the dashboard together in OUT (build/web): the page's own files from
# SRC (web/src) and, from MODULES (web/node_modules, as npm ci installed them
# from the lockfile), the few files of each library the page loads, with
# their licences. Run by the `web` target: cmake -DSRC= -DMODULES= -DOUT= -P.
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}/vendor")
file(COPY "${SRC}/" DESTINATION "${OUT}")
# package directory | files (relative to it, separated by commas: a semicolon
# would split the entry itself, as CMake lists do) | where they go under vendor/
set(libs
  "leaflet|dist/leaflet.js,dist/leaflet.css,dist/images,LICENSE|leaflet"
  "leaflet.markercluster|dist/leaflet.markercluster.js,dist/MarkerCluster.css,dist/MarkerCluster.Default.css,MIT-LICENCE.txt|leaflet.markercluster"
  "uplot|dist/uPlot.iife.min.js,dist/uPlot.min.css,LICENSE|uplot")
foreach(lib IN LISTS libs)
  string(REPLACE "|" ";" parts "${lib}")
  list(GET parts 0 pkg)
  list(GET parts 2 dest)
  list(GET parts 1 files)
  string(REPLACE "," ";" files "${files}")
  foreach(f IN LISTS files)
    set(from "${MODULES}/${pkg}/${f}")
    if(NOT EXISTS "${from}")
      message(FATAL_ERROR "web: ${from} is missing: run npm ci in web/ (the lockfile pins ${pkg})")
    endif()
    get_filename_component(name "${f}" NAME)
    if(name MATCHES "^(LICENSE|MIT-LICENCE\\.txt)$")
      configure_file("${from}" "${OUT}/vendor/${dest}/LICENSE.txt" COPYONLY)
    elseif(IS_DIRECTORY "${from}")
      file(COPY "${from}" DESTINATION "${OUT}/vendor/${dest}")
    else()
      file(COPY "${from}" DESTINATION "${OUT}/vendor/${dest}")
    endif()
  endforeach()
endforeach()
file(WRITE "${OUT}/.stamp" "")
