/*
 * src/irc/numerics.h - every numeric reply the server sends, with its
 * text after "<code> <client> " as a printf format (ngircd's messages.h).
 *
 *	irc_num(s, c, ERR_NOSUCHNICK, ERR_NOSUCHNICK_F, target);
 *
 * Names and texts follow the Modern IRC client protocol document.
 */
#ifndef SK_IRC_NUMERICS_H
#define SK_IRC_NUMERICS_H

#define RPL_WELCOME 1
#define RPL_WELCOME_F ":Welcome to the %s IRC Network %s"
#define RPL_YOURHOST 2
#define RPL_YOURHOST_F ":Your host is %s, running version %s"
#define RPL_CREATED 3
#define RPL_CREATED_F ":This server was created %s"
#define RPL_MYINFO 4
#define RPL_MYINFO_F "%s %s %s %s %s"
#define RPL_ISUPPORT 5
#define RPL_ISUPPORT_F "%s :are supported by this server"

#define RPL_UMODEIS 221
#define RPL_UMODEIS_F "%s"
#define RPL_LUSERCLIENT 251
#define RPL_LUSERCLIENT_F ":There are %u users and %u invisible on 1 servers"
#define RPL_LUSEROP 252
#define RPL_LUSEROP_F "%u :operator(s) online"
#define RPL_LUSERUNKNOWN 253
#define RPL_LUSERUNKNOWN_F "%u :unknown connection(s)"
#define RPL_LUSERCHANNELS 254
#define RPL_LUSERCHANNELS_F "%u :channels formed"
#define RPL_LUSERME 255
#define RPL_LUSERME_F ":I have %u clients and 0 servers"
#define RPL_ADMINME 256
#define RPL_ADMINME_F "%s :Administrative info"
#define RPL_ADMINLOC1 257
#define RPL_ADMINLOC2 258
#define RPL_ADMINEMAIL 259
#define RPL_ADMIN_F ":%s"
#define RPL_LOCALUSERS 265
#define RPL_LOCALUSERS_F "%u %u :Current local users %u, max %u"
#define RPL_GLOBALUSERS 266
#define RPL_GLOBALUSERS_F "%u %u :Current global users %u, max %u"

#define RPL_AWAY 301
#define RPL_AWAY_F "%s :%s"
#define RPL_USERHOST 302
#define RPL_USERHOST_F ":%s"
#define RPL_ISON 303
#define RPL_ISON_F ":%s"
#define RPL_UNAWAY 305
#define RPL_UNAWAY_F ":You are no longer marked as being away"
#define RPL_NOWAWAY 306
#define RPL_NOWAWAY_F ":You have been marked as being away"
#define RPL_WHOISBOT 335
#define RPL_WHOISBOT_F "%s :is a bot on %s"
#define RPL_WHOISUSER 311
#define RPL_WHOISUSER_F "%s %s %s * :%s"
#define RPL_WHOISSERVER 312
#define RPL_WHOISSERVER_F "%s %s :%s"
#define RPL_WHOISOPERATOR 313
#define RPL_WHOISOPERATOR_F "%s :is an IRC operator"
#define RPL_WHOWASUSER 314
#define RPL_WHOWASUSER_F "%s %s %s * :%s"
#define RPL_ENDOFWHO 315
#define RPL_ENDOFWHO_F "%s :End of WHO list"
#define RPL_WHOISIDLE 317
#define RPL_WHOISIDLE_F "%s %llu %lld :seconds idle, signon time"
#define RPL_ENDOFWHOIS 318
#define RPL_ENDOFWHOIS_F "%s :End of /WHOIS list"
#define RPL_WHOISCHANNELS 319
#define RPL_WHOISCHANNELS_F "%s :%s"
#define RPL_LISTSTART 321
#define RPL_LISTSTART_F "Channel :Users  Name"
#define RPL_LIST 322
#define RPL_LIST_F "%s %u :%s"
#define RPL_LISTEND 323
#define RPL_LISTEND_F ":End of /LIST"
#define RPL_CHANNELMODEIS 324
#define RPL_CHANNELMODEIS_F "%s %s"
#define RPL_CREATIONTIME 329
#define RPL_CREATIONTIME_F "%s %lld"
#define RPL_NOTOPIC 331
#define RPL_NOTOPIC_F "%s :No topic is set"
#define RPL_TOPIC 332
#define RPL_TOPIC_F "%s :%s"
#define RPL_TOPICWHOTIME 333
#define RPL_TOPICWHOTIME_F "%s %s %lld"
#define RPL_INVITELIST 336
#define RPL_INVITELIST_F "%s"
#define RPL_ENDOFINVITELIST 337
#define RPL_ENDOFINVITELIST_F ":End of /INVITE list"
#define RPL_WHOISACTUALLY 338
#define RPL_WHOISACTUALLY_F "%s %s :actually using host"
#define RPL_INVITING 341
#define RPL_INVITING_F "%s %s"
#define RPL_INVEXLIST 346
#define RPL_ENDOFINVEXLIST 347
#define RPL_ENDOFINVEXLIST_F "%s :End of Channel Invite Exception List"
#define RPL_EXCEPTLIST 348
#define RPL_ENDOFEXCEPTLIST 349
#define RPL_ENDOFEXCEPTLIST_F "%s :End of Channel Exception List"
#define RPL_VERSION 351
#define RPL_VERSION_F "%s %s :%s"
#define RPL_WHOREPLY 352
#define RPL_WHOREPLY_F "%s %s %s %s %s %s :0 %s"
#define RPL_NAMREPLY 353
#define RPL_WHOSPCRPL 354
#define RPL_ENDOFNAMES 366
#define RPL_ENDOFNAMES_F "%s :End of /NAMES list"
#define RPL_BANLIST 367
#define RPL_LISTENTRY_F "%s %s %s %lld"
#define RPL_ENDOFBANLIST 368
#define RPL_ENDOFBANLIST_F "%s :End of Channel Ban List"
#define RPL_ENDOFWHOWAS 369
#define RPL_ENDOFWHOWAS_F "%s :End of WHOWAS"
#define RPL_INFO 371
#define RPL_INFO_F ":%s"
#define RPL_MOTD 372
#define RPL_MOTD_F ":- %s"
#define RPL_ENDOFINFO 374
#define RPL_ENDOFINFO_F ":End of /INFO list"
#define RPL_MOTDSTART 375
#define RPL_MOTDSTART_F ":- %s Message of the day - "
#define RPL_ENDOFMOTD 376
#define RPL_ENDOFMOTD_F ":End of /MOTD command"
#define RPL_WHOISHOST 378
#define RPL_WHOISHOST_F "%s :is connecting from %s@%s %s"
#define RPL_WHOISMODES 379
#define RPL_WHOISMODES_F "%s :is using modes %s"
#define RPL_YOUREOPER 381
#define RPL_YOUREOPER_F ":You are now an IRC operator"
#define RPL_REHASHING 382
#define RPL_REHASHING_F "%s :Rehashing"
#define RPL_TIME 391
#define RPL_TIME_F "%s %lld 0 :%s"
#define RPL_WHOISSECURE 671
#define RPL_WHOISSECURE_F "%s :is using a secure connection"

#define ERR_UNKNOWNERROR 400
#define ERR_NOSUCHNICK 401
#define ERR_NOSUCHNICK_F "%s :No such nick/channel"
#define ERR_NOSUCHSERVER 402
#define ERR_NOSUCHSERVER_F "%s :No such server"
#define ERR_NOSUCHCHANNEL 403
#define ERR_NOSUCHCHANNEL_F "%s :No such channel"
#define ERR_CANNOTSENDTOCHAN 404
#define ERR_CANNOTSENDTOCHAN_F "%s :Cannot send to channel"
#define ERR_TOOMANYCHANNELS 405
#define ERR_TOOMANYCHANNELS_F "%s :You have joined too many channels"
#define ERR_WASNOSUCHNICK 406
#define ERR_WASNOSUCHNICK_F "%s :There was no such nickname"
#define ERR_TOOMANYTARGETS 407
#define ERR_TOOMANYTARGETS_F "%s :Too many targets"
#define ERR_NOORIGIN 409
#define ERR_NOORIGIN_F ":No origin specified"
#define ERR_NORECIPIENT 411
#define ERR_NORECIPIENT_F ":No recipient given (%s)"
#define ERR_NOTEXTTOSEND 412
#define ERR_NOTEXTTOSEND_F ":No text to send"
#define ERR_INPUTTOOLONG 417
#define ERR_INPUTTOOLONG_F ":Input line was too long"
#define ERR_UNKNOWNCOMMAND 421
#define ERR_UNKNOWNCOMMAND_F "%s :Unknown command"
#define ERR_NOMOTD 422
#define ERR_NOMOTD_F ":MOTD File is missing"
#define ERR_NONICKNAMEGIVEN 431
#define ERR_NONICKNAMEGIVEN_F ":No nickname given"
#define ERR_ERRONEUSNICKNAME 432
#define ERR_ERRONEUSNICKNAME_F "%s :Erroneous nickname"
#define ERR_NICKNAMEINUSE 433
#define ERR_NICKNAMEINUSE_F "%s :Nickname is already in use"
#define ERR_USERNOTINCHANNEL 441
#define ERR_USERNOTINCHANNEL_F "%s %s :They aren't on that channel"
#define ERR_NOTONCHANNEL 442
#define ERR_NOTONCHANNEL_F "%s :You're not on that channel"
#define ERR_USERONCHANNEL 443
#define ERR_USERONCHANNEL_F "%s %s :is already on channel"
#define ERR_NOTREGISTERED 451
#define ERR_NOTREGISTERED_F ":You have not registered"
#define ERR_NEEDMOREPARAMS 461
#define ERR_NEEDMOREPARAMS_F "%s :Not enough parameters"
#define ERR_ALREADYREGISTERED 462
#define ERR_ALREADYREGISTERED_F ":You may not reregister"
#define ERR_PASSWDMISMATCH 464
#define ERR_PASSWDMISMATCH_F ":Password incorrect"
#define ERR_KEYSET 467
#define ERR_KEYSET_F "%s :Channel key already set"
#define ERR_CHANNELISFULL 471
#define ERR_CHANNELISFULL_F "%s :Cannot join channel (+l)"
#define ERR_UNKNOWNMODE 472
#define ERR_UNKNOWNMODE_F "%c :is unknown mode char to me"
#define ERR_INVITEONLYCHAN 473
#define ERR_INVITEONLYCHAN_F "%s :Cannot join channel (+i)"
#define ERR_BANNEDFROMCHAN 474
#define ERR_BANNEDFROMCHAN_F "%s :Cannot join channel (+b)"
#define ERR_BADCHANNELKEY 475
#define ERR_BADCHANNELKEY_F "%s :Cannot join channel (+k)"
#define ERR_BADCHANMASK 476
#define ERR_BADCHANMASK_F "%s :Bad Channel Mask"
#define ERR_BANLISTFULL 478
#define ERR_BANLISTFULL_F "%s %c :Channel list is full"
#define ERR_NOPRIVILEGES 481
#define ERR_NOPRIVILEGES_F ":Permission Denied- You're not an IRC operator"
#define ERR_CHANOPRIVSNEEDED 482
#define ERR_CHANOPRIVSNEEDED_F "%s :You're not channel operator"
#define ERR_NOOPERHOST 491
#define ERR_NOOPERHOST_F ":No O-lines for your host"
#define ERR_UMODEUNKNOWNFLAG 501
#define ERR_UMODEUNKNOWNFLAG_F ":Unknown MODE flag"
#define ERR_USERSDONTMATCH 502
#define ERR_USERSDONTMATCH_F ":Can't change mode for other users"
#define ERR_INVALIDKEY 525
#define ERR_INVALIDKEY_F "%s :Key is not well-formed"
#define ERR_INVALIDMODEPARAM 696
#define ERR_INVALIDMODEPARAM_F "%s %c %s :%s"

#endif
