#!/usr/bin/env escript
%% -*- erlang -*-
%%! +P 2000000
%% Erlang/OTP reference figures for benchmarks/bench_erlang.py.
%% escript erlang_ref.escript KIND N  prints one JSON object:
%%   pingpong N  round trips between two processes    -> {"seconds": S}
%%   call N      gen_server:call to an echo server    -> {"seconds": S}
%%   spawn N     spawn N processes that return at once, until all exited
%%   memory N    N processes blocked in receive       -> {"bytes_per_process": B, ...}
%%   crash N     N monitored processes told to crash at once; seconds until
%%               every 'DOWN' arrived
-module(erlang_ref).
-mode(compile).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).

main([Kind, NText]) ->
    N = list_to_integer(NText),
    %% A crashing process logs an error report; the storm would print 100,000.
    logger:set_primary_config(level, none),
    Fields = run(list_to_atom(Kind), N),
    io:format("~s~n", [json([{kind, list_to_binary(Kind)}, {n, N} | Fields])]);
main(_) ->
    io:format(standard_error, "usage: erlang_ref.escript pingpong|call|spawn|memory|crash N~n", []),
    halt(2).

now_s() -> erlang:monotonic_time(nanosecond) / 1.0e9.

%% -- ping-pong ---------------------------------------------------------------

echo() ->
    receive {From, Msg} -> From ! Msg, echo(); stop -> ok end.

pings(_Echo, 0) -> ok;
pings(Echo, K) ->
    Echo ! {self(), <<"x">>},
    receive <<"x">> -> ok end,
    pings(Echo, K - 1).

run(pingpong, N) ->
    Echo = spawn(fun echo/0),
    pings(Echo, 1000),
    T0 = now_s(),
    pings(Echo, N),
    S = now_s() - T0,
    Echo ! stop,
    [{seconds, S}];

%% -- gen_server:call ---------------------------------------------------------

run(call, N) ->
    {ok, Server} = gen_server:start(?MODULE, [], []),
    calls(Server, 1000),
    T0 = now_s(),
    calls(Server, N),
    S = now_s() - T0,
    gen_server:stop(Server),
    [{seconds, S}];

%% -- spawn -------------------------------------------------------------------

run(spawn, N) ->
    T0 = now_s(),
    Refs = [element(2, spawn_monitor(fun() -> ok end)) || _ <- lists:seq(1, N)],
    wait_downs(length(Refs)),
    [{seconds, now_s() - T0}];

%% -- memory ------------------------------------------------------------------

run(memory, N) ->
    erlang:garbage_collect(),
    Rss0 = rss(),
    Mem0 = erlang:memory(total),
    Pids = [spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, N)],
    wait_blocked(Pids),
    erlang:garbage_collect(),
    Rss1 = rss(),
    Mem1 = erlang:memory(total),
    [P ! stop || P <- Pids],
    [{bytes_per_process, (Rss1 - Rss0) / N}, {vm_bytes_per_process, (Mem1 - Mem0) / N},
     {rss_before, Rss0}, {rss_after, Rss1}];

%% -- crash storm -------------------------------------------------------------

run(crash, N) ->
    Pids = [element(1, spawn_monitor(fun() -> receive crash -> erlang:error(told_to_crash) end end))
            || _ <- lists:seq(1, N)],
    wait_blocked(Pids),
    T0 = now_s(),
    [P ! crash || P <- Pids],
    Errors = count_error_downs(N, 0),
    S = now_s() - T0,
    N = Errors,
    [{seconds, S}].

calls(_Server, 0) -> ok;
calls(Server, K) ->
    <<"x">> = gen_server:call(Server, <<"x">>),
    calls(Server, K - 1).

init([]) -> {ok, nostate}.
handle_call(Request, _From, State) -> {reply, Request, State}.
handle_cast(_Msg, State) -> {noreply, State}.

wait_downs(0) -> ok;
wait_downs(K) -> receive {'DOWN', _, process, _, _} -> wait_downs(K - 1) end.

count_error_downs(0, Errors) -> Errors;
count_error_downs(K, Errors) ->
    receive
        {'DOWN', _, process, _, {told_to_crash, [_ | _]}} -> count_error_downs(K - 1, Errors + 1);
        {'DOWN', _, process, _, _} -> count_error_downs(K - 1, Errors)
    end.

%% Until every process waits in receive (so none is still starting).
wait_blocked(Pids) ->
    case lists:all(fun(P) -> process_info(P, status) =:= {status, waiting} end, Pids) of
        true -> ok;
        false -> timer:sleep(10), wait_blocked(Pids)
    end.

rss() ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = binary:split(Statm, <<" ">>, [global]),
    binary_to_integer(Resident) * 4096.

json(Fields) ->
    ["{", lists:join(", ", [["\"", atom_to_list(K), "\": ", value(V)] || {K, V} <- Fields]), "}"].

value(V) when is_binary(V) -> ["\"", V, "\""];
value(V) when is_integer(V) -> integer_to_list(V);
value(V) when is_float(V) -> float_to_list(V, [{decimals, 9}, compact]).
