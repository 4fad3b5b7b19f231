// Run before anything else on the page: the map's sites are the largest answer the first view
// needs, so they are asked for while the libraries and the page's modules still load.
// mapcore.js takes this answer when it is good and asks again through api.js when it is not.
(function () {
  'use strict';
  var headers = { Accept: 'application/json' };
  var key = sessionStorage.getItem('ecorridor.key');
  if (key) headers.Authorization = 'Bearer ' + key;
  window.ecorridorBoot = {
    // Parsed as soon as it arrives; null when it is not a good answer.
    sites: fetch('/api/v1/map/sites', { headers: headers })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .catch(function () {
        return null;
      }),
  };
})();
