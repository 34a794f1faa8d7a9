// The call through a vendor's browser SDK, for sessions that Twilio Video or the Zoom Video SDK
// serve. call.js loads the vendor's script (pinned by SRI) only when the join token names that
// provider, then calls TelehealthVendors[provider](call, token), which joins and resolves to an
// adapter: mute(on), camera(off), stats() -> Promise of a getStats-like sample, leave().
(function () {
  "use strict";

  function sum(list, key) {
    return (list || []).reduce(function (total, s) { return total + (s[key] || 0); }, 0);
  }

  function twilio(call, token) {
    return window.Twilio.Video.connect(token.token, { name: token.room, audio: true, video: { width: 640 } }).then(function (room) {
      var local = call.el("local-video"), remote = call.el("remote-video");
      room.localParticipant.videoTracks.forEach(function (pub) { if (pub.track) pub.track.attach(local); });
      function onTrack(track) {
        if (track.kind !== "audio" && track.kind !== "video") return;
        track.attach(remote);
        if (!call.startedAt) call.startedAt = Date.now();
        call.status("Connected.");
      }
      function onParticipant(participant) {
        participant.tracks.forEach(function (pub) { if (pub.track) onTrack(pub.track); });
        participant.on("trackSubscribed", onTrack);
      }
      room.participants.forEach(onParticipant);
      room.on("participantConnected", onParticipant);
      room.on("participantDisconnected", function () { call.finish("The other side hung up."); });
      // Twilio reconnects by itself after a network blip (its own ICE restart).
      room.on("reconnecting", function () { call.reconnects += 1; call.status("Reconnecting…"); });
      room.on("reconnected", function () { call.status("Connected."); });
      room.on("disconnected", function () { call.finish("The call was disconnected."); });
      function each(kind, fn) { room.localParticipant[kind].forEach(function (pub) { if (pub.track) fn(pub.track); }); }
      return {
        mute: function (on) { each("audioTracks", function (t) { if (on) t.disable(); else t.enable(); }); },
        camera: function (off) { each("videoTracks", function (t) { if (off) t.disable(); else t.enable(); }); },
        stats: function () {
          return room.getStats().then(function (reports) {
            var now = { bytesReceived: 0, bytesSent: 0, packetsLost: 0, packetsReceived: 0, framesDecoded: 0, rtt: null, jitter: null };
            reports.forEach(function (r) {
              var inbound = (r.remoteAudioTrackStats || []).concat(r.remoteVideoTrackStats || []);
              var outbound = (r.localAudioTrackStats || []).concat(r.localVideoTrackStats || []);
              now.bytesReceived += sum(inbound, "bytesReceived"); now.packetsLost += sum(inbound, "packetsLost");
              now.packetsReceived += sum(inbound, "packetsReceived"); now.bytesSent += sum(outbound, "bytesSent");
              outbound.forEach(function (s) { if (s.roundTripTime != null) now.rtt = s.roundTripTime * 1000; });
              inbound.forEach(function (s) { if (s.jitter != null) now.jitter = s.jitter; });
            });
            return now;
          });
        },
        leave: function () {
          room.localParticipant.tracks.forEach(function (pub) { if (pub.track && pub.track.stop) pub.track.stop(); });
          room.disconnect();
        }
      };
    });
  }

  // Zoom's network quality levels (0 bad .. 5 good) as the page's quality label.
  var ZOOM_LEVELS = ["Poor connection", "Poor connection", "Fair connection", "Fair connection", "Good", "Good"];

  function zoom(call, token) {
    var client = window.WebVideoSDK ? window.WebVideoSDK.default.createClient() : window.ZoomVideo.createClient();
    var quality = null, remoteBox = null;
    return client.init("en-US", "Global", { patchJsMedia: true }).then(function () {
      return client.join(token.room, token.token, token.identity);
    }).then(function () {
      var stream = client.getMediaStream();
      var local = call.el("local-video"), remote = call.el("remote-video");
      remoteBox = document.createElement("video-player-container");
      remoteBox.className = "call-remote-box";
      remote.hidden = true;
      remote.parentNode.insertBefore(remoteBox, remote);
      function show(userId) {
        stream.attachVideo(userId, 3).then(function (player) {
          remoteBox.appendChild(player);
          if (!call.startedAt) call.startedAt = Date.now();
          call.status("Connected.");
        });
      }
      client.getAllUser().forEach(function (user) { if (user.bVideoOn && user.userId !== client.getCurrentUserInfo().userId) show(user.userId); });
      client.on("peer-video-state-change", function (change) {
        if (change.action === "Start") show(change.userId); else stream.detachVideo(change.userId);
      });
      client.on("user-removed", function () { call.finish("The other side hung up."); });
      client.on("connection-change", function (change) {
        if (change.state === "Reconnecting") { call.reconnects += 1; call.status("Reconnecting…"); }
        else if (change.state === "Connected") call.status("Connected.");
        else if (change.state === "Closed") call.finish("The call was disconnected.");
      });
      client.on("network-quality-change", function (change) {
        if (change.userId === client.getCurrentUserInfo().userId) quality = change.level;
      });
      return stream.startAudio().then(function () { return stream.startVideo({ videoElement: local }); }).then(function () {
        return {
          mute: function (on) { if (on) stream.muteAudio(); else stream.unmuteAudio(); },
          camera: function (off) { if (off) stream.stopVideo(); else stream.startVideo({ videoElement: local }); },
          stats: function () {
            // Zoom's SDK reports a network quality level, not getStats counters.
            var label = quality == null ? "Connecting…" : ZOOM_LEVELS[Math.max(0, Math.min(5, quality))];
            return Promise.resolve({ bytesReceived: 0, bytesSent: 0, packetsLost: 0, packetsReceived: 0, framesDecoded: 0,
                                     rtt: null, jitter: null, label: label,
                                     labelClass: label === "Good" ? "pill pill-ok" : (quality == null ? "pill" : "pill pill-warn") });
          },
          leave: function () {
            try { stream.stopVideo(); stream.stopAudio(); } catch (e) { /* already stopped */ }
            client.leave();
          }
        };
      });
    });
  }

  window.TelehealthVendors = { TWILIO: twilio, ZOOM: zoom };
})();
